package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/audit"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// fixture is a migrated database with two organizations.
type fixture struct {
	db    *store.DB
	org   string // the organization under test
	owner string // its owner's user ID
	other string // another organization
}

func setup(t *testing.T, b storetest.Backend) *fixture {
	t.Helper()
	db := b.Open(t)
	ctx := context.Background()
	res, err := provision.CreateOrg(ctx, db.Client, provision.OrgInput{Name: "Acme", Slug: "acme", OwnerEmail: "owner@acme.test"})
	if err != nil {
		t.Fatalf("creating org: %v", err)
	}
	other, err := provision.CreateOrg(ctx, db.Client, provision.OrgInput{Name: "Globex", Slug: "globex", OwnerEmail: "owner@globex.test"})
	if err != nil {
		t.Fatalf("creating other org: %v", err)
	}
	return &fixture{db: db, org: res.OrgID, owner: res.OwnerUserID, other: other.OrgID}
}

// mcp is the viewer most tests act as: an owner's MCP token.
func (f *fixture) mcp() context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		OrgID: f.org, Role: viewer.RoleOwner, ActorType: viewer.ActorMCP,
		TokenID: "mcp_x", ActorID: "usr_x", RequestID: "req_1",
	})
}

// ownerSession is the owner signed in to the dashboard, who alone may manage
// credentials.
func (f *fixture) ownerSession() context.Context {
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		OrgID: f.org, UserID: f.owner, Role: viewer.RoleOwner, ActorType: viewer.ActorUser, ActorID: f.owner,
	})
}

// entries returns every audit entry in the database, oldest first.
func (f *fixture) entries(t *testing.T) []*ent.AuditLogEntry {
	t.Helper()
	es, err := f.db.Client.AuditLogEntry.Query().Order(ent.Asc(auditlogentry.FieldID)).All(rule.AsSystem(context.Background()))
	if err != nil {
		t.Fatalf("reading audit log: %v", err)
	}
	return es
}

// want is the part of an entry a test asserts.
type want struct {
	action, entityType, entityID string
	before, after                map[string]any
}

// checkEntries compares entries to wants, and their actor fields to v.
func checkEntries(t *testing.T, got []*ent.AuditLogEntry, v *viewer.Viewer, wants ...want) {
	t.Helper()
	if len(got) != len(wants) {
		for _, e := range got {
			t.Logf("entry: %s %s %s before=%v after=%v", e.Action, e.EntityType, e.EntityID, e.Before, e.After)
		}
		t.Fatalf("got %d audit entries, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		e := got[i]
		if e.Action != w.action || e.EntityType != w.entityType || e.EntityID != w.entityID {
			t.Errorf("entry %d is %s %s %s, want %s %s %s", i, e.Action, e.EntityType, e.EntityID, w.action, w.entityType, w.entityID)
		}
		if !sameJSON(e.Before, w.before) {
			t.Errorf("entry %d (%s) before = %v, want %v", i, e.Action, e.Before, w.before)
		}
		if !sameJSON(e.After, w.after) {
			t.Errorf("entry %d (%s) after = %v, want %v", i, e.Action, e.After, w.after)
		}
		if e.OrgID != v.OrgID || string(e.ActorType) != string(v.ActorType) || e.ActorID != v.ActorID ||
			e.TokenID != v.TokenID || e.RequestID != v.RequestID {
			t.Errorf("entry %d actor = org %s %s %q token %q request %q, want org %s %s %q token %q request %q", i,
				e.OrgID, e.ActorType, e.ActorID, e.TokenID, e.RequestID, v.OrgID, v.ActorType, v.ActorID, v.TokenID, v.RequestID)
		}
	}
}

// sameJSON compares two values as they would be stored, so 30 and 30.0 and a
// nil map and an absent one are alike.
func sameJSON(a, b map[string]any) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	return reflect.DeepEqual(roundTrip(a), roundTrip(b))
}

func roundTrip(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func inTx(t *testing.T, f *fixture, ctx context.Context, do func(tx *ent.Tx) error) error {
	t.Helper()
	tx, err := f.db.Client.Tx(ctx)
	if err != nil {
		t.Fatalf("opening tx: %v", err)
	}
	if err := do(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			t.Fatalf("rollback: %v", rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
	return nil
}

// campaignDefaults are the fields a bare campaign create sets.
func campaignDefaults(org, name, slug string) map[string]any {
	return map[string]any{
		"org_id": org, "name": name, "slug": slug,
		"status": "Active", "commission_type": "Percentage", "commission_value": 2000, "commission_model": "Cps",
		"currency": "USD", "cookie_window_days": 30, "attribution_model": "LastClick", "auto_approve": false,
		"network_visibility": "Private", "sub_affiliates_enabled": false, "sub_affiliate_override_bps": 0,
		"coupon_self_mint": false,
	}
}

func TestViewerWritesInATransactionAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		ctx := f.mcp()
		var cmp *ent.Campaign
		var aff *ent.Affiliate
		err := inTx(t, f, ctx, func(tx *ent.Tx) error {
			var err error
			if cmp, err = tx.Campaign.Create().SetName("Spring").SetSlug("spring").Save(ctx); err != nil {
				return err
			}
			if _, err = tx.Campaign.UpdateOne(cmp).SetName("Summer").SetStatus(campaign.StatusPaused).
				AddCookieWindowDays(5).ClearDescription().Save(ctx); err != nil {
				return err
			}
			aff, err = tx.Affiliate.Create().SetCampaignID(cmp.ID).SetEmail("pat@partner.test").SetSlug("pat").Save(ctx)
			return err
		})
		if err != nil {
			t.Fatalf("writing: %v", err)
		}
		checkEntries(t, f.entries(t), viewer.FromContext(ctx),
			want{action: "campaign.create", entityType: "campaign", entityID: cmp.ID,
				after: campaignDefaults(f.org, "Spring", "spring")},
			want{action: "campaign.update", entityType: "campaign", entityID: cmp.ID,
				before: map[string]any{"name": "Spring", "status": "Active", "cookie_window_days": 30, "description": ""},
				after:  map[string]any{"name": "Summer", "status": "Paused", "cookie_window_days": 35, "description": nil}},
			want{action: "affiliate.create", entityType: "affiliate", entityID: aff.ID,
				after: map[string]any{"org_id": f.org, "campaign_id": cmp.ID, "email": "pat@partner.test", "slug": "pat", "status": "Pending"}},
		)
		stored := f.db.Client.Campaign.GetX(rule.AsSystem(context.Background()), cmp.ID)
		if stored.CookieWindowDays != 35 || stored.Name != "Summer" {
			t.Errorf("stored campaign = %d days, %q; the entry says 35, Summer", stored.CookieWindowDays, stored.Name)
		}
	})
}

func TestAdminWritesAreAuditedAndMembersCannotWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		cmp := f.db.Client.Campaign.Create().SetOrgID(f.org).SetName("Spring").SetSlug("spring").
			SaveX(rule.AsSystem(context.Background()))

		member := viewer.NewContext(context.Background(), &viewer.Viewer{OrgID: f.org, Role: viewer.RoleMember, ActorType: viewer.ActorUser, ActorID: "usr_m"})
		err := inTx(t, f, member, func(tx *ent.Tx) error {
			return tx.Campaign.UpdateOne(cmp).SetName("Hijacked").Exec(member)
		})
		if !errors.Is(err, rule.ErrReadOnly) {
			t.Fatalf("member update: err = %v, want rule.ErrReadOnly", err)
		}
		if n := len(f.entries(t)); n != 0 {
			t.Fatalf("a refused write left %d audit entries", n)
		}

		av := &viewer.Viewer{OrgID: f.org, Role: viewer.RoleAdmin, ActorType: viewer.ActorAPIKey, ActorID: "key_1", TokenID: "key_1", RequestID: "req_2"}
		admin := viewer.NewContext(context.Background(), av)
		if err := inTx(t, f, admin, func(tx *ent.Tx) error {
			return tx.Campaign.UpdateOne(cmp).SetAutoApprove(true).Exec(admin)
		}); err != nil {
			t.Fatalf("admin update: %v", err)
		}
		checkEntries(t, f.entries(t), av, want{action: "campaign.update", entityType: "campaign", entityID: cmp.ID,
			before: map[string]any{"auto_approve": false}, after: map[string]any{"auto_approve": true}})
	})
}

func TestSystemWritesAreNotAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		ctx := rule.AsSystem(context.Background())
		cmp := f.db.Client.Campaign.Create().SetOrgID(f.org).SetName("Spring").SetSlug("spring").SaveX(ctx)
		f.db.Client.Campaign.UpdateOne(cmp).SetName("Summer").ExecX(ctx)
		f.db.Client.Campaign.DeleteOne(cmp).ExecX(ctx)
		if n := len(f.entries(t)); n != 0 {
			t.Fatalf("system writes left %d audit entries, want none", n)
		}
	})
}

func TestRolledBackTransactionLeavesNoEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		ctx := f.mcp()
		tx, err := f.db.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// A failed check must not leave the tx holding its locks.
		t.Cleanup(func() { _ = tx.Rollback() })
		cmp, err := tx.Campaign.Create().SetName("Spring").SetSlug("spring").Save(ctx)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if n, err := tx.AuditLogEntry.Query().Count(rule.AsSystem(ctx)); err != nil || n != 1 {
			t.Fatalf("inside the tx: %d entries (%v), want 1", n, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if ok, _ := f.db.Client.Campaign.Query().Where(campaign.ID(cmp.ID)).Exist(rule.AsSystem(ctx)); ok {
			t.Error("the rolled-back campaign exists")
		}
		if n := len(f.entries(t)); n != 0 {
			t.Errorf("a rolled-back tx left %d audit entries", n)
		}
	})
}

func TestAuditFailureFailsTheMutation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		cases := []struct {
			name string
			ctx  context.Context
		}{
			// The viewer's organization does not exist: the campaign row is
			// valid (written AsSystem into a real organization) but the
			// entry's org_id breaks its foreign key in the database.
			{"entry rejected by the database", rule.AsSystem(viewer.NewContext(context.Background(), &viewer.Viewer{
				OrgID: "org_01J00000000000000000000000", Role: viewer.RoleOwner, ActorType: viewer.ActorMCP, ActorID: "usr_x",
			}))},
			// An actor type the log does not know: the entry fails validation.
			{"entry rejected by validation", viewer.NewContext(context.Background(), &viewer.Viewer{
				OrgID: f.org, Role: viewer.RoleOwner, ActorType: "robot",
			})},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				slug := []string{"doomed-a", "doomed-b"}[i]
				err := inTx(t, f, c.ctx, func(tx *ent.Tx) error {
					return tx.Campaign.Create().SetOrgID(f.org).SetName("Doomed").SetSlug(slug).Exec(c.ctx)
				})
				if err == nil || !strings.Contains(err.Error(), "audit: writing campaign.create") {
					t.Fatalf("create: err = %v, want the audit write's failure", err)
				}
				t.Logf("create failed as it must: %v", err)
				sys := rule.AsSystem(context.Background())
				if ok, _ := f.db.Client.Campaign.Query().Where(campaign.Slug(slug)).Exist(sys); ok {
					t.Error("the campaign whose audit entry failed was committed")
				}
				if n := len(f.entries(t)); n != 0 {
					t.Errorf("%d audit entries, want none", n)
				}
			})
		}
	})
}

func TestBulkChangesWriteOneEntryPerRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		sys := rule.AsSystem(context.Background())
		a := f.db.Client.Campaign.Create().SetOrgID(f.org).SetName("A").SetSlug("a").SaveX(sys)
		bb := f.db.Client.Campaign.Create().SetOrgID(f.org).SetName("B").SetSlug("b").SaveX(sys)
		theirs := f.db.Client.Campaign.Create().SetOrgID(f.other).SetName("Theirs").SetSlug("theirs").SaveX(sys)

		ctx := f.mcp()
		var updated, deleted int
		if err := inTx(t, f, ctx, func(tx *ent.Tx) error {
			var err error
			if updated, err = tx.Campaign.Update().SetStatus(campaign.StatusPaused).AddCommissionValue(500).Save(ctx); err != nil {
				return err
			}
			if err = tx.Campaign.DeleteOne(a).Exec(ctx); err != nil {
				return err
			}
			deleted, err = tx.Campaign.Delete().Exec(ctx)
			return err
		}); err != nil {
			t.Fatalf("bulk changes: %v", err)
		}
		if updated != 2 || deleted != 1 {
			t.Fatalf("updated %d, deleted %d; want 2 and 1", updated, deleted)
		}
		if _, err := f.db.Client.Campaign.Get(sys, theirs.ID); err != nil {
			t.Fatalf("the other organization's campaign: %v", err)
		}

		got := f.entries(t)
		// The bulk update's two entries come in the order the IDs were read.
		if len(got) >= 2 && got[0].EntityID != a.ID {
			got[0], got[1] = got[1], got[0]
		}
		v := viewer.FromContext(ctx)
		paused := func(id string) want {
			return want{action: "campaign.update", entityType: "campaign", entityID: id,
				before: map[string]any{"status": "Active", "commission_value": 2000},
				after:  map[string]any{"status": "Paused", "commission_value": 2500}}
		}
		deletedRow := func(id, name, slug string) want {
			row := campaignDefaults(f.org, name, slug)
			row["status"], row["commission_value"] = "Paused", 2500
			row["description"], row["terms_url"] = "", ""
			return want{action: "campaign.delete", entityType: "campaign", entityID: id, before: row}
		}
		checkEntries(t, got, v, paused(a.ID), paused(bb.ID), deletedRow(a.ID, "A", "a"), deletedRow(bb.ID, "B", "b"))
	})
}

func TestBulkCreateWritesOneEntryPerRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		ctx := f.mcp()
		var made []*ent.Campaign
		if err := inTx(t, f, ctx, func(tx *ent.Tx) error {
			var err error
			made, err = tx.Campaign.CreateBulk(
				tx.Campaign.Create().SetName("A").SetSlug("a"),
				tx.Campaign.Create().SetName("B").SetSlug("b"),
			).Save(ctx)
			return err
		}); err != nil {
			t.Fatalf("bulk create: %v", err)
		}
		got := f.entries(t)
		// Each builder's hook finishes inside the previous one's, so the
		// entries are written last builder first.
		if len(got) >= 2 && got[0].EntityID != made[0].ID {
			got[0], got[1] = got[1], got[0]
		}
		checkEntries(t, got, viewer.FromContext(ctx),
			want{action: "campaign.create", entityType: "campaign", entityID: made[0].ID, after: campaignDefaults(f.org, "A", "a")},
			want{action: "campaign.create", entityType: "campaign", entityID: made[1].ID, after: campaignDefaults(f.org, "B", "b")},
		)
	})
}

func TestDeleteOfAMissingRowWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		ctx := f.mcp()
		err := inTx(t, f, ctx, func(tx *ent.Tx) error {
			return tx.Campaign.DeleteOneID("cmp_01J00000000000000000000000").Exec(ctx)
		})
		if !ent.IsNotFound(err) {
			t.Fatalf("delete: err = %v, want not found", err)
		}
		if n := len(f.entries(t)); n != 0 {
			t.Fatalf("%d audit entries, want none", n)
		}
	})
}

func TestToManyEdgeChangesAreRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		sys := rule.AsSystem(context.Background())
		cmp := f.db.Client.Campaign.Create().SetOrgID(f.org).SetName("Spring").SetSlug("spring").SaveX(sys)
		recruiter := f.db.Client.Affiliate.Create().SetOrgID(f.org).SetCampaignID(cmp.ID).SetEmail("r@x.test").SetSlug("r").SaveX(sys)
		recruit := f.db.Client.Affiliate.Create().SetOrgID(f.org).SetCampaignID(cmp.ID).SetEmail("n@x.test").SetSlug("n").SaveX(sys)

		ctx := f.mcp()
		if err := inTx(t, f, ctx, func(tx *ent.Tx) error {
			return tx.Affiliate.UpdateOne(recruiter).AddRecruitIDs(recruit.ID).Exec(ctx)
		}); err != nil {
			t.Fatalf("adding a recruit: %v", err)
		}
		checkEntries(t, f.entries(t), viewer.FromContext(ctx), want{action: "affiliate.update", entityType: "affiliate", entityID: recruiter.ID,
			after: map[string]any{"edges": map[string]any{"recruits": map[string]any{"added": []any{recruit.ID}}}}})
	})
}

func TestSecretsNeverReachTheLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		ctx := f.ownerSession()
		const secretHash = "5ec7e7ha5h0000000000000000000000"
		const sealed = "sealed-signing-secret"
		var tok *ent.MCPToken
		var key *ent.APIKey
		if err := inTx(t, f, ctx, func(tx *ent.Tx) error {
			var err error
			if tok, err = tx.MCPToken.Create().SetName("Assistant").SetSecretHash(secretHash).SetHint("rk_mcp_Ab3x").Save(ctx); err != nil {
				return err
			}
			if key, err = tx.APIKey.Create().SetName("Server").SetSecretHash(secretHash + "k").SetHint("rk_live_Zz").
				SetSigningSecretSealed([]byte(sealed)).Save(ctx); err != nil {
				return err
			}
			if err = tx.MCPToken.DeleteOne(tok).Exec(ctx); err != nil {
				return err
			}
			return tx.APIKey.DeleteOne(key).Exec(ctx)
		}); err != nil {
			t.Fatalf("managing credentials: %v", err)
		}
		tokRow := map[string]any{"org_id": f.org, "name": "Assistant", "hint": "rk_mcp_Ab3x", "read_only": false}
		keyRow := map[string]any{"org_id": f.org, "name": "Server", "hint": "rk_live_Zz"}
		tokLast := map[string]any{"created_by_id": "", "last_used_at": nil, "revoked_at": nil, "affiliate_id": nil}
		for k, v := range tokRow {
			tokLast[k] = v
		}
		keyLast := map[string]any{"created_by_id": "", "last_used_at": nil, "revoked_at": nil}
		for k, v := range keyRow {
			keyLast[k] = v
		}
		checkEntries(t, f.entries(t), viewer.FromContext(ctx),
			want{action: "mcp_token.create", entityType: "mcp_token", entityID: tok.ID, after: tokRow},
			want{action: "api_key.create", entityType: "api_key", entityID: key.ID, after: keyRow},
			want{action: "mcp_token.delete", entityType: "mcp_token", entityID: tok.ID, before: tokLast},
			want{action: "api_key.delete", entityType: "api_key", entityID: key.ID, before: keyLast},
		)

		rows, err := f.db.SQL.Query(`SELECT COALESCE(CAST("before" AS TEXT), ''), COALESCE(CAST("after" AS TEXT), '') FROM ` + auditlogentry.Table)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var before, after string
			if err := rows.Scan(&before, &after); err != nil {
				t.Fatal(err)
			}
			for _, leak := range []string{secretHash, "secret_hash", "signing_secret", "c2VhbGVk"} {
				if strings.Contains(before+after, leak) {
					t.Errorf("an audit row contains %q: before=%s after=%s", leak, before, after)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOrganizationUpdatesAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		ctx := f.ownerSession()
		if err := inTx(t, f, ctx, func(tx *ent.Tx) error {
			return tx.Organization.UpdateOneID(f.org).SetName("Acme Inc").Exec(ctx)
		}); err != nil {
			t.Fatalf("renaming: %v", err)
		}
		checkEntries(t, f.entries(t), viewer.FromContext(ctx), want{action: "organization.update", entityType: "organization", entityID: f.org,
			before: map[string]any{"name": "Acme"}, after: map[string]any{"name": "Acme Inc"}})
	})
}

func TestWritesOutsideATransactionAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		ctx := f.mcp()
		cmp, err := f.db.Client.Campaign.Create().SetName("Spring").SetSlug("spring").Save(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkEntries(t, f.entries(t), viewer.FromContext(ctx), want{action: "campaign.create", entityType: "campaign", entityID: cmp.ID,
			after: campaignDefaults(f.org, "Spring", "spring")})
	})
}

func TestRecordOperation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := setup(t, b)
		ctx := f.mcp()
		after := map[string]any{"tool": "list_campaigns", "count": 3, "api_secret_hash": "x"}
		if err := audit.RecordOperation(ctx, f.db.Client, "campaign.list", "campaign", "", after); err != nil {
			t.Fatalf("recording: %v", err)
		}
		if _, ok := after["api_secret_hash"]; !ok {
			t.Error("RecordOperation changed the caller's map")
		}
		checkEntries(t, f.entries(t), viewer.FromContext(ctx), want{action: "campaign.list", entityType: "campaign",
			after: map[string]any{"tool": "list_campaigns", "count": 3}})

		err := audit.RecordOperation(context.Background(), f.db.Client, "campaign.list", "campaign", "", nil)
		if !errors.Is(err, audit.ErrNoViewer) {
			t.Errorf("without a viewer: err = %v, want ErrNoViewer", err)
		}
	})
}
