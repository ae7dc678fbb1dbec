package identity_test

import (
	"context"
	"testing"

	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/store/storetest"
)

// A dashboard session carries the person's Tandem operator flag, so the
// admin-only analytics work in the dashboard, and granting it bites at once.
func TestSessionCarriesAdmin(t *testing.T) {
	f := setup(t, storetest.Backends(t)[0])
	inst := newInstance(t, f.db, f.keys, f.clk, nil)
	ctx := rule.AsSystem(context.Background())
	admin := f.db.Client.User.Create().SetEmail("op@example.com").SetIsAdmin(true).SaveX(ctx)
	plain := f.db.Client.User.Create().SetEmail("bo@example.com").SaveX(ctx)
	session := func(id string) string {
		s, _, err := auth.Sessions{Key: f.keys.Session, Now: f.clk.Now}.Sign(id, 0)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	adminSession, plainSession := session(admin.ID), session(plain.ID)
	if r := f.call(t, inst, adminSession, false, `{}`, nil); r.status != 200 || r.viewer == nil || !r.viewer.Admin || r.viewer.UserID != admin.ID {
		t.Fatalf("admin's session: %d %s; want a viewer with Admin", r.status, r.body)
	}
	if r := f.call(t, inst, plainSession, false, `{}`, nil); r.status != 200 || r.viewer == nil || r.viewer.Admin {
		t.Fatalf("plain session: %d %s; want a viewer without Admin", r.status, r.body)
	}
	// Granted through an instance's client, the cached session is forgotten.
	inst.client.User.UpdateOneID(plain.ID).SetIsAdmin(true).ExecX(ctx)
	if r := f.call(t, inst, plainSession, false, `{}`, nil); r.status != 200 || r.viewer == nil || !r.viewer.Admin {
		t.Fatalf("session after grant-admin: %d %s; want Admin", r.status, r.body)
	}
}
