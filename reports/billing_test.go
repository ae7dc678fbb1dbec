package reports

import (
	"fmt"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tandemhq/tandem/viewer"
)

const gatedSchema = `
enum Tier { Free Trial Starter Growth Pro }
directive @requiresPlan(tier: Tier!) on FIELD_DEFINITION
directive @requiresPaidPlan(tier: Tier!) on FIELD_DEFINITION
type Query {
  open: Int
  "Embed the dashboard.\n\nMore detail."
  embed: Int @requiresPlan(tier: Growth)
}
type Mutation {
  "Invite many at once."
  bulkInvite: Int @requiresPaidPlan(tier: Starter)
}
type Campaign {
  "Recruiting settings."
  subAffiliates: Int @requiresPlan(tier: Pro)
}
`

func TestSchemaGates(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "gates.graphql", Input: gatedSchema})
	for _, tc := range []struct {
		plan, status string
		want         string
	}{
		{"Trial", "trialing", "[{Campaign.subAffiliates Recruiting settings. Pro false false} {bulkInvite Invite many at once. Starter true false} {embed Embed the dashboard. Growth false false}]"},
		{"Starter", "active", "[{Campaign.subAffiliates Recruiting settings. Pro false false} {bulkInvite Invite many at once. Starter true true} {embed Embed the dashboard. Growth false false}]"},
		{"Pro", "past_due", "[{Campaign.subAffiliates Recruiting settings. Pro false true} {bulkInvite Invite many at once. Starter true false} {embed Embed the dashboard. Growth false true}]"},
	} {
		got := fmt.Sprint(schemaGates(schema, &viewer.Viewer{Plan: tc.plan, SubscriptionStatus: tc.status}))
		if got != tc.want {
			t.Errorf("%s/%s:\ngot  %s\nwant %s", tc.plan, tc.status, got, tc.want)
		}
	}
	if got := schemaGates(nil, &viewer.Viewer{}); got != nil {
		t.Errorf("no schema: got %v, want none", got)
	}
}
