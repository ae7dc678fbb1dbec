package graph_test

import (
	"testing"

	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// Every query by an AI assistant or an API key lands in the audit log with
// its actor and token; a person's dashboard reads do not.
func TestReadsByAgentsAreAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		db := be.Open(t)
		a := seedTenant(t, db.Client, "alpha")
		api := newAPI(db.Client, graph.Options{})
		reads := func() int {
			return db.Client.AuditLogEntry.Query().Where(auditlogentry.ActionHasPrefix("query.")).CountX(sys())
		}
		api.ok(t, a.Owner, `query Profile { viewerOrganization { name } }`, nil)
		if n := reads(); n != 0 {
			t.Fatalf("a person's read wrote %d audit rows, want 0", n)
		}
		mcp := *a.Owner
		mcp.ActorType, mcp.TokenID, mcp.Role = viewer.ActorMCP, a.MCPToken, viewer.RoleAdmin
		api.ok(t, &mcp, `query get_org_profile { viewerOrganization { name } }`, nil)
		row := db.Client.AuditLogEntry.Query().Where(auditlogentry.ActionHasPrefix("query.")).OnlyX(sys())
		if row.Action != "query.get_org_profile" || row.ActorType != auditlogentry.ActorTypeMcp || row.TokenID != a.MCPToken || row.OrgID != a.OrgID {
			t.Fatalf("got audit row %+v, want query.get_org_profile by the MCP token in org A", row)
		}
	})
}

// Signing up a new organization while signed in to another must not write
// the new organization's rows into the caller's audit log.
func TestSignUpIsNotAuditedIntoTheCallersOrganization(t *testing.T) {
	db := storetest.SQLite(t)
	a := seedTenant(t, db.Client, "alpha")
	api := newAPI(db.Client, graph.Options{})
	before := db.Client.AuditLogEntry.Query().Where(auditlogentry.OrgID(a.OrgID)).CountX(sys())
	api.ok(t, a.Owner, `mutation { signUp(input: {email: "new@bravo.test", password: "correct horse battery", fullName: "B", organizationName: "Bravo", organizationSlug: "bravo-new"}) { expiresAt } }`, nil)
	if after := db.Client.AuditLogEntry.Query().Where(auditlogentry.OrgID(a.OrgID)).CountX(sys()); after != before {
		t.Fatalf("signUp by a member of alpha wrote %d rows into alpha's audit log", after-before)
	}
}
