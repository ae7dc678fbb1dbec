package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/tandemhq/tandem/auth"
	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/importjob"
	"github.com/tandemhq/tandem/ent/membership"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/keys"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/viewer"
)

// api serves the GraphQL core exactly as production builds it; each request
// carries the viewer the test names, or none.
type api struct {
	srv    *handler.Server
	client *ent.Client
}

func newAPI(client *ent.Client, opts graph.Options) *api {
	return newAPIWith(client, opts, testDeps())
}

// newAPIWith is newAPI with the resolvers' dependencies given.
func newAPIWith(client *ent.Client, opts graph.Options, deps graph.Deps) *api {
	srv := handler.New(graph.NewSchema(client, deps))
	srv.AddTransport(transport.POST{})
	graph.Configure(srv, client, opts)
	return &api{srv: srv, client: client}
}

// cheapArgon2 makes password hashing fast in tests; production uses auth.DefaultArgon2.
var cheapArgon2 = auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}

// testKeys are the server keys every test API uses.
var testKeys = keys.Random()

// testDeps are the resolvers' dependencies in tests: fixed keys, the real
// clock, and cheap password hashing.
func testDeps() graph.Deps {
	return graph.Deps{Keys: testKeys, PublicURL: "https://tandem.test", Argon2: cheapArgon2}
}

// gqlError is one entry of a response's errors.
type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e gqlError) code() string  { s, _ := e.Extensions["code"].(string); return s }
func (e gqlError) field() string { s, _ := e.Extensions["field"].(string); return s }

// response is a decoded GraphQL response.
type response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// hasData reports whether the response carries any data at all.
func (r response) hasData() bool {
	d := bytes.TrimSpace(r.Data)
	return len(d) > 0 && !bytes.Equal(d, []byte("null"))
}

// codes lists the errors' extensions.code values.
func (r response) codes() []string {
	var cs []string
	for _, e := range r.Errors {
		cs = append(cs, e.code())
	}
	return cs
}

// decode unmarshals the data into v, failing the test when it cannot.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decoding data %s: %v", r.Data, err)
	}
}

// do posts query with vars as v (nil: no viewer) and decodes the answer.
func (a *api) do(t testing.TB, v *viewer.Viewer, query string, vars map[string]any) response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if v != nil {
		req = req.WithContext(viewer.NewContext(req.Context(), v))
	}
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	var resp response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("decoding response (status %d) %q: %v", rec.Code, rec.Body.String(), err)
	}
	resp.Status = rec.Code
	return resp
}

// ok posts the query and fails the test on any error.
func (a *api) ok(t *testing.T, v *viewer.Viewer, query string, vars map[string]any) response {
	t.Helper()
	resp := a.do(t, v, query, vars)
	if len(resp.Errors) > 0 {
		t.Fatalf("unexpected errors %+v for query %s", resp.Errors, query)
	}
	return resp
}

// wantError fails the test unless the response has exactly one error with
// code (and, when field is not empty, extensions.field field), and returns it.
func wantError(t *testing.T, resp response, code, field string) gqlError {
	t.Helper()
	if len(resp.Errors) != 1 {
		t.Fatalf("got errors %+v (data %s), want exactly one with code %s", resp.Errors, resp.Data, code)
	}
	e := resp.Errors[0]
	if e.code() != code {
		t.Fatalf("got error code %q (%q), want %q", e.code(), e.Message, code)
	}
	if field != "" && e.field() != field {
		t.Fatalf("got error field %q (%q), want %q", e.field(), e.Message, field)
	}
	return e
}

// sys is a context in which the privacy rules allow everything, for seeding
// rows and for checking what a request really wrote.
func sys() context.Context { return rule.AsSystem(context.Background()) }

// tenant is one organization with a row of every entity type.
type tenant struct {
	OrgID  string
	Owner  *viewer.Viewer
	Member *viewer.Viewer

	OwnerUser, MemberUser             string
	OwnerMembership, MemberMembership string
	Campaign, Affiliate, Recruit      string
	Click, Lead, ImportJob            string
	Batch, LineItem, Conversion       string
	Coupon, AuditEntry                string
	MCPToken, APIKey                  string

	// ids holds, per root connection field of Query, every row of the
	// field's type that belongs to (is visible in) this organization.
	ids map[string][]string
}

func (tn *tenant) add(field string, ids ...string) {
	if tn.ids == nil {
		tn.ids = map[string][]string{}
	}
	tn.ids[field] = append(tn.ids[field], ids...)
}

// seeded holds what a seeding call returned; get fails the test on its error.
type seeded[T any] struct {
	v   T
	err error
}

func must[T any](v T, err error) seeded[T] { return seeded[T]{v, err} }

func (s seeded[T]) get(t *testing.T) T {
	t.Helper()
	if s.err != nil {
		t.Fatalf("seeding: %v", s.err)
	}
	return s.v
}

// seedTenant creates an organization named slug with an owner, a member and
// one row (two for affiliates) of every entity the API exposes.
func seedTenant(t *testing.T, c *ent.Client, slug string) *tenant {
	t.Helper()
	ctx := sys()
	res, err := provision.CreateOrg(ctx, c, provision.OrgInput{
		Name: strings.ToUpper(slug[:1]) + slug[1:], Slug: slug, OwnerEmail: "owner@" + slug + ".test", Plan: "growth",
	})
	if err != nil {
		t.Fatalf("provisioning %s: %v", slug, err)
	}
	org := res.OrgID
	tn := &tenant{OrgID: org, OwnerUser: res.OwnerUserID}
	tn.Owner = &viewer.Viewer{OrgID: org, UserID: res.OwnerUserID, Role: viewer.RoleOwner, ActorType: viewer.ActorUser, ActorID: res.OwnerUserID}
	tn.OwnerMembership = must(c.Membership.Query().
		Where(membership.OrgID(org), membership.UserID(res.OwnerUserID)).OnlyID(ctx)).get(t)

	tn.MemberUser = must(c.User.Create().SetEmail("member@" + slug + ".test").Save(ctx)).get(t).ID
	tn.MemberMembership = must(c.Membership.Create().SetOrgID(org).SetUserID(tn.MemberUser).
		SetRole(membership.RoleMember).Save(ctx)).get(t).ID
	tn.Member = &viewer.Viewer{OrgID: org, UserID: tn.MemberUser, Role: viewer.RoleMember, ActorType: viewer.ActorUser, ActorID: tn.MemberUser}

	tn.Campaign = must(c.Campaign.Create().SetOrgID(org).SetName(slug + " program").SetSlug(slug + "-program").Save(ctx)).get(t).ID
	tn.Affiliate = must(c.Affiliate.Create().SetOrgID(org).SetCampaignID(tn.Campaign).
		SetEmail("partner@" + slug + ".test").SetSlug(slug + "-partner").Save(ctx)).get(t).ID
	tn.Recruit = must(c.Affiliate.Create().SetOrgID(org).SetCampaignID(tn.Campaign).
		SetEmail("recruit@" + slug + ".test").SetSlug(slug + "-recruit").SetRecruitedByID(tn.Affiliate).Save(ctx)).get(t).ID
	tn.Click = must(c.Click.Create().SetOrgID(org).SetAffiliateID(tn.Affiliate).SetCampaignID(tn.Campaign).
		SetLandingURL("https://" + slug + ".test/").Save(ctx)).get(t).ID
	tn.Lead = must(c.Lead.Create().SetOrgID(org).SetAffiliateID(tn.Affiliate).SetCampaignID(tn.Campaign).
		SetEmail("lead@" + slug + ".test").Save(ctx)).get(t).ID
	tn.ImportJob = must(c.ImportJob.Create().SetOrgID(org).SetKind(importjob.KindConversions).
		SetCampaignID(tn.Campaign).SetRowsTotal(1).SetImported(1).Save(ctx)).get(t).ID
	tn.Batch = must(c.PayoutBatch.Create().SetOrgID(org).SetCurrency("USD").SetTotalCents(2000).
		SetLineCount(1).SetCampaignID(tn.Campaign).Save(ctx)).get(t).ID
	tn.LineItem = must(c.PayoutLineItem.Create().SetOrgID(org).SetBatchID(tn.Batch).SetAffiliateID(tn.Affiliate).
		SetAmountCents(2000).SetCurrency("USD").SetConversionCount(1).Save(ctx)).get(t).ID
	tn.Conversion = must(c.Conversion.Create().SetOrgID(org).SetAffiliateID(tn.Affiliate).SetCampaignID(tn.Campaign).
		SetLeadID(tn.Lead).SetImportJobID(tn.ImportJob).SetPayoutLineItemID(tn.LineItem).
		SetAmountCents(10000).SetCurrency("USD").SetCommissionCents(2000).
		SetHomeAmountCents(10000).SetHomeCommissionCents(2000).SetHomeCurrency("USD").Save(ctx)).get(t).ID
	tn.Coupon = must(c.Coupon.Create().SetOrgID(org).SetCampaignID(tn.Campaign).SetAffiliateID(tn.Affiliate).
		SetCode(strings.ToUpper(slug) + "10").SetName("10% off").SetPercentOff(10).Save(ctx)).get(t).ID
	tn.AuditEntry = must(c.AuditLogEntry.Create().SetOrgID(org).SetActorType(auditlogentry.ActorTypeUser).
		SetActorID(res.OwnerUserID).SetAction("campaign.create").SetEntityType("Campaign").SetEntityID(tn.Campaign).Save(ctx)).get(t).ID

	tn.MCPToken = must(c.MCPToken.Create().SetOrgID(org).SetName(slug + " laptop").SetCreatedByID(res.OwnerUserID).
		SetSecretHash(credential.Hash(slug + "-mcp-seed")).SetHint("rk_mcp_seed…").Save(ctx)).get(t).ID
	tn.APIKey = must(c.APIKey.Create().SetOrgID(org).SetName(slug + " server").SetCreatedByID(res.OwnerUserID).
		SetSecretHash(credential.Hash(slug + "-key-seed")).SetHint("rk_live_seed…").
		SetSigningSecretSealed(must(credential.Seal(testKeys.Encryption, slug+"-secret-seed")).get(t)).Save(ctx)).get(t).ID

	tn.add("organizations", org)
	tn.add("users", tn.OwnerUser, tn.MemberUser)
	tn.add("memberships", tn.OwnerMembership, tn.MemberMembership)
	tn.add("campaigns", tn.Campaign)
	tn.add("affiliates", tn.Affiliate, tn.Recruit)
	tn.add("clicks", tn.Click)
	tn.add("leads", tn.Lead)
	tn.add("conversions", tn.Conversion)
	tn.add("payoutBatches", tn.Batch)
	tn.add("payoutLineItems", tn.LineItem)
	tn.add("coupons", tn.Coupon)
	tn.add("auditLogEntries", tn.AuditEntry)
	tn.add("importJobs", tn.ImportJob)
	tn.add("mcpTokens", tn.MCPToken)
	tn.add("apiKeys", tn.APIKey)
	return tn
}

// rootConnections are the root connection fields of Query in graph/ent.graphql.
var rootConnections = []string{
	"organizations", "users", "memberships", "campaigns", "affiliates", "clicks", "leads",
	"conversions", "payoutBatches", "payoutLineItems", "coupons", "auditLogEntries", "importJobs",
	"mcpTokens", "apiKeys",
}

// connectionIDs is the shape of `{ edges { node { id } } totalCount }`.
type connectionIDs struct {
	TotalCount int `json:"totalCount"`
	Edges      []struct {
		Node *struct {
			ID string `json:"id"`
		} `json:"node"`
	} `json:"edges"`
}

func (c connectionIDs) ids() []string {
	var ids []string
	for _, e := range c.Edges {
		if e.Node != nil {
			ids = append(ids, e.Node.ID)
		}
	}
	return sorted(ids)
}

func sorted(ids []string) []string {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

// without returns the ids of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, id := range a {
		if !slices.Contains(b, id) {
			out = append(out, id)
		}
	}
	return out
}

// aliases returns n aliased copies of field, a0: field … a(n-1): field.
func aliases(n int, field string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "a%d: %s\n", i, field)
	}
	return b.String()
}
