package mcpadapter

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store/storetest"
)

// loadSchema returns the schema every surface serves. The database is only
// there because NewSchema wants a client; nothing here queries it.
func loadSchema(t *testing.T) *ast.Schema {
	t.Helper()
	db := storetest.SQLite(t)
	return graph.NewSchema(db.Client, graph.Deps{}).Schema()
}

// operation parses src against the real schema exactly as graph.NewRunner
// does, so a test operation that would not load as a tool fails here.
func operation(t *testing.T, src string) *ast.OperationDefinition {
	t.Helper()
	doc, errs := gqlparser.LoadQueryWithRules(loadSchema(t), src, nil)
	if len(errs) > 0 {
		t.Fatalf("load query: %v", errs)
	}
	if len(doc.Operations) != 1 {
		t.Fatalf("want one operation, got %d", len(doc.Operations))
	}
	return doc.Operations[0]
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("golden is not JSON: %v\n%s", err, s)
	}
	return b.String()
}

func indent(b []byte) string {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}

func TestInputSchema(t *testing.T) {
	tests := []struct {
		name string
		op   string
		want string
	}{
		{
			name: "no variables",
			op: `"""The calling organization."""
query get_organization { viewerOrganization { id } }`,
			want: `{
				"$schema": "https://json-schema.org/draft/2020-12/schema",
				"type": "object",
				"properties": {},
				"additionalProperties": false
			}`,
		},
		{
			name: "defaults, optional, descriptions",
			op: `"""Campaigns, newest first."""
query list_campaigns(
  """How many campaigns to return."""
  $take: Int = 50,
  """Where the previous page ended."""
  $cursor: Cursor
) {
  campaigns(first: $take, after: $cursor, orderBy: {field: CREATED_AT, direction: DESC}) { edges { node { id } } }
}`,
			want: `{
				"$schema": "https://json-schema.org/draft/2020-12/schema",
				"type": "object",
				"properties": {
					"take": {"type": "integer", "description": "How many campaigns to return.", "default": 50},
					"cursor": {"type": "string", "description": "Where the previous page ended."}
				},
				"additionalProperties": false
			}`,
		},
		{
			name: "enum, list, time, required",
			op: `"""Conversions by status."""
query list_conversions($ids: [ID!]!, $status: ConversionStatus = Pending, $since: Time, $take: Int!) {
  conversions(first: $take, where: {idIn: $ids, status: $status, createdAtGTE: $since}) { edges { node { id } } }
}`,
			want: `{
				"$schema": "https://json-schema.org/draft/2020-12/schema",
				"type": "object",
				"properties": {
					"ids": {"type": "array", "items": {"type": "string"}},
					"status": {"type": "string", "enum": ["Pending", "Approved", "Paid", "Refunded", "Denied"], "default": "Pending"},
					"since": {"type": "string", "format": "date-time"},
					"take": {"type": "integer"}
				},
				"required": ["ids", "take"],
				"additionalProperties": false
			}`,
		},
		{
			name: "input object",
			op: `"""Create a campaign."""
mutation create_campaign(
  """The new campaign."""
  $input: CreateCampaignInput!
) {
  createCampaign(input: $input) { id }
}`,
			want: `{
				"$schema": "https://json-schema.org/draft/2020-12/schema",
				"type": "object",
				"properties": {
					"input": {
						"type": "object",
						"properties": {
							"name": {"type": "string"},
							"slug": {"type": "string"},
							"description": {"type": "string"},
							"termsURL": {"type": "string"},
							"status": {"type": "string", "enum": ["Active", "Paused", "Archived"]},
							"commissionType": {"type": "string", "enum": ["Percentage", "Fixed"]},
							"commissionValue": {"type": "integer", "description": "Basis points of the sale when commission_type is Percentage (2000 = 20%); minor units of the campaign currency when Fixed."},
							"commissionModel": {"type": "string", "enum": ["Cps", "Cpc", "Cpl"], "description": "What earns a commission: a sale, a click or a lead."},
							"currency": {"type": "string", "description": "ISO 4217 code of fixed commissions."},
							"cookieWindowDays": {"type": "integer"},
							"attributionModel": {"type": "string", "enum": ["LastClick", "FirstClick"]},
							"autoApprove": {"type": "boolean", "description": "Approve affiliate applications without review."},
							"networkVisibility": {"type": "string", "enum": ["Private", "Public"]},
							"couponSelfMint": {"type": "boolean", "description": "Affiliates may mint their own coupon codes on this campaign."}
						},
						"required": ["name", "slug"],
						"additionalProperties": false,
						"description": "The new campaign."
					}
				},
				"required": ["input"],
				"additionalProperties": false
			}`,
		},
		{
			name: "input field default",
			op: `"""Campaigns in an order."""
query ordered($order: CampaignOrder) {
  campaigns(orderBy: $order) { edges { node { id } } }
}`,
			want: `{
				"$schema": "https://json-schema.org/draft/2020-12/schema",
				"type": "object",
				"properties": {
					"order": {
						"type": "object",
						"properties": {
							"direction": {"type": "string", "enum": ["ASC", "DESC"], "description": "The ordering direction.", "default": "ASC"},
							"field": {"type": "string", "enum": ["CREATED_AT", "NAME", "SLUG", "STATUS"], "description": "The field by which to order Campaigns."}
						},
						"required": ["field"],
						"additionalProperties": false
					}
				},
				"additionalProperties": false
			}`,
		},
		{
			name: "custom scalar",
			op: `"""Create a coupon."""
mutation create_coupon($campaign: ID!, $meta: Map) {
  createCoupon(input: {code: "SAVE", name: "Save", campaignID: $campaign, metadata: $meta}) { id }
}`,
			want: `{
				"$schema": "https://json-schema.org/draft/2020-12/schema",
				"type": "object",
				"properties": {
					"campaign": {"type": "string"},
					"meta": {"type": "object"}
				},
				"required": ["campaign"],
				"additionalProperties": false
			}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := operation(t, tt.op)
			got, err := InputSchema(loadSchema(t), op)
			if err != nil {
				t.Fatal(err)
			}
			if want := compact(t, tt.want); string(got) != want {
				t.Errorf("got\n%s\nwant\n%s", indent(got), indent([]byte(want)))
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

// A filter input refers to itself (not/and/or) and to other filters; the
// expansion must stop rather than recurse forever or balloon.
func TestInputSchemaRecursiveInput(t *testing.T) {
	op := operation(t, `"""Filtered conversions."""
query filtered($where: ConversionWhereInput) {
  conversions(where: $where) { edges { node { id } } }
}`)
	got, err := InputSchema(loadSchema(t), op)
	if err != nil {
		t.Fatal(err)
	}
	var root struct {
		Properties map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(got, &root); err != nil {
		t.Fatal(err)
	}
	where := root.Properties["where"].Properties
	if len(where) == 0 {
		t.Fatalf("where is not expanded: %s", got)
	}
	if want := `{"type":"object","properties":{`; !strings.HasPrefix(string(where["not"]), want) {
		t.Errorf("where.not is not expanded one level: %.200s", where["not"])
	}
	if want := `{"type":"object"}`; !strings.Contains(string(where["not"]), `"not":`+want) {
		t.Errorf("where.not.not is not cut off at depth %d: %.300s", maxInputDepth, where["not"])
	}
	t.Logf("ConversionWhereInput schema: %d bytes", len(got))
}

func TestInputSchemaDeterministic(t *testing.T) {
	op := operation(t, `"""Campaigns and conversions."""
query overview($where: ConversionWhereInput, $order: CampaignOrder, $take: Int = 50, $ids: [ID!]) {
  campaigns(first: $take, orderBy: $order, where: {idIn: $ids}) { totalCount }
  conversions(where: $where) { totalCount }
}`)
	a, err := InputSchema(loadSchema(t), op)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b, err := InputSchema(loadSchema(t), op)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("two calls differ:\n%s\n%s", a, b)
		}
	}
}

func TestDescription(t *testing.T) {
	op := operation(t, `"""
  Campaigns, newest first.
"""
query list_campaigns { campaigns { totalCount } }`)
	got, err := Description(op)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Campaigns, newest first."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}

	op = operation(t, `query undocumented { campaigns { totalCount } }`)
	if _, err := Description(op); err == nil || !strings.Contains(err.Error(), "undocumented") {
		t.Errorf("want an error naming the operation, got %v", err)
	}
}

// The variable directives become JSON Schema bounds.
func TestInputSchemaDirectives(t *testing.T) {
	// Parsed without validation: the variables need not be used to have a schema.
	doc, perr := parser.ParseQuery(&ast.Source{Input: `"""Bounds."""
query bounded(
  $take: Int = 50 @range(min: 1, max: 200)
  $percent: Float @range(min: 0, max: 100)
  $reason: String @length(max: 1000)
  $emails: [String!] @length(min: 1, max: 50)
  $range: String = "30d" @values(list: ["7d", "30d"])
  $code: String @pattern(regex: "^[A-Z]{3}$")
  $origins: [String!] @singleOrList
) { campaigns(first: $take) { totalCount } }`})
	if perr != nil {
		t.Fatal(perr)
	}
	got, err := InputSchema(loadSchema(t), doc.Operations[0])
	if err != nil {
		t.Fatal(err)
	}
	want := compact(t, `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{
"take":{"type":"integer","minimum":1,"maximum":200,"default":50},
"percent":{"type":"number","minimum":0,"maximum":100},
"reason":{"type":"string","maxLength":1000},
"emails":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":50},
"range":{"type":"string","enum":["7d","30d"],"default":"30d"},
"code":{"type":"string","pattern":"^[A-Z]{3}$"},
"origins":{"anyOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]}
},"additionalProperties":false}`)
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", indent(got), indent([]byte(want)))
	}
}
