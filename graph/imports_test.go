package graph_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/affiliatetoken"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/importjob"
	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

// importNow is the resolvers' clock in these tests.
var importNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type importFixture struct {
	db   *store.DB
	api  *api
	a, b *tenant
}

func newImportFixture(t *testing.T) *importFixture {
	t.Helper()
	db := storetest.SQLite(t)
	deps := testDeps()
	deps.Now = func() time.Time { return importNow }
	return &importFixture{
		db:  db,
		api: newAPIWith(db.Client, graph.Options{}, deps),
		a:   seedTenant(t, db.Client, "alpha"),
		b:   seedTenant(t, db.Client, "bravo"),
	}
}

// as returns a copy of base acting as actor on plan with the subscription status.
func as(base *viewer.Viewer, actor viewer.ActorType, plan, subscription string) *viewer.Viewer {
	v := *base
	v.ActorType, v.Plan, v.SubscriptionStatus, v.EmailVerified = actor, plan, subscription, true
	return &v
}

const importAffiliatesDoc = `mutation($c: ID!, $rows: [ImportAffiliateRow!]!, $inc: [String!], $notify: Boolean, $msg: String) {
  importAffiliates(campaignID: $c, affiliates: $rows, includeStatuses: $inc, notifyAffiliates: $notify, notificationMessageHtml: $msg) {
    jobID rowsTotal imported skipped errored reasons { row outcome email reason }
  }
}`

type rowReason struct {
	Row     int
	Outcome string
	Email   *string
	Reason  string
}

type importResult struct {
	JobID                                 string
	RowsTotal, Imported, Skipped, Errored int
	Reasons                               []rowReason
	UnpaidConfirmedCents, UnpaidHeldCents int64
	PaidSettledCents                      int64
	Currency                              string
}

func (r importResult) reason(t *testing.T, row int) rowReason {
	t.Helper()
	for _, x := range r.Reasons {
		if x.Row == row {
			return x
		}
	}
	t.Fatalf("no reason for row %d in %+v", row, r.Reasons)
	return rowReason{}
}

func (f *importFixture) importAffiliates(t *testing.T, v *viewer.Viewer, vars map[string]any) importResult {
	t.Helper()
	var got struct{ ImportAffiliates importResult }
	f.api.ok(t, v, importAffiliatesDoc, vars).decode(t, &got)
	return got.ImportAffiliates
}

func rows(n int, f func(i int) map[string]any) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func auditCount(t *testing.T, c *ent.Client, action string, actor auditlogentry.ActorType) int {
	t.Helper()
	return must(c.AuditLogEntry.Query().Where(auditlogentry.Action(action), auditlogentry.ActorTypeEQ(actor)).Count(sys())).get(t)
}

func TestImportAffiliates(t *testing.T) {
	f := newImportFixture(t)
	c := f.db.Client
	owner := as(f.a.Owner, viewer.ActorUser, "Trial", "trialing")
	roster := []map[string]any{
		{"email": " Ada@Example.com ", "fullName": "Ada Lovelace"},
		{"email": "grace@example.com", "status": "PENDING", "slug": "grace-h", "paypalEmail": "Pay@Grace.test"},
		{"email": "ada@example.com"},
		{"email": "partner@alpha.test"},
		{"email": "not-an-email"},
		{"email": "vip@example.com", "status": "vip"},
		{"email": "linus@example.com", "fullName": "Linus T", "slug": "alpha-partner"},
	}

	var first importResult
	t.Run("imports, dedupes and explains every row", func(t *testing.T) {
		first = f.importAffiliates(t, owner, map[string]any{"c": f.a.Campaign, "rows": roster})
		if first.RowsTotal != 7 || first.Imported != 3 || first.Skipped != 2 || first.Errored != 2 {
			t.Fatalf("got %+v, want 7 rows: 3 imported, 2 skipped, 2 errored", first)
		}
		for row, want := range map[int]string{3: "skipped", 4: "skipped", 5: "errored", 6: "errored", 7: "imported"} {
			if got := first.reason(t, row); got.Outcome != want {
				t.Errorf("row %d: got outcome %q (%s), want %s", row, got.Outcome, got.Reason, want)
			}
		}
		if r := first.reason(t, 3); !strings.Contains(r.Reason, "row 1") {
			t.Errorf("row 3 reason %q does not name the row it duplicates", r.Reason)
		}
		if r := first.reason(t, 4); !strings.Contains(r.Reason, "already an affiliate") {
			t.Errorf("row 4 reason %q", r.Reason)
		}
		job := must(c.ImportJob.Get(sys(), first.JobID)).get(t)
		if job.Kind != importjob.KindAffiliates || job.Imported != 3 || job.Skipped != 2 || job.Errored != 2 || job.RowsTotal != 7 || len(job.Reasons) != 5 {
			t.Fatalf("job %+v does not record the counts and reasons", job)
		}
		got := must(c.Affiliate.Query().Where(affiliate.ImportJobID(first.JobID)).Order(ent.Asc(affiliate.FieldEmail)).All(sys())).get(t)
		if len(got) != 3 {
			t.Fatalf("got %d affiliates with the job's id, want 3", len(got))
		}
		ada, grace, linus := got[0], got[1], got[2]
		if ada.Email != "ada@example.com" || ada.Status != affiliate.StatusApproved || ada.ApprovedAt == nil || !ada.ApprovedAt.Equal(importNow) {
			t.Errorf("ada: %+v, want approved now with a lower-case email", ada)
		}
		if grace.Status != affiliate.StatusPending || grace.Slug != "grace-h" || grace.PaypalEmail != "pay@grace.test" {
			t.Errorf("grace: %+v, want pending, slug grace-h", grace)
		}
		if !regexp.MustCompile(`^linus-t-[a-z0-9]{4}$`).MatchString(linus.Slug) {
			t.Errorf("linus got slug %q, want a fresh linus-t-xxxx (alpha-partner is taken)", linus.Slug)
		}
		if r := first.reason(t, 7); !strings.Contains(r.Reason, "alpha-partner") || !strings.Contains(r.Reason, linus.Slug) {
			t.Errorf("row 7 reason %q does not name the refused and the fresh slug", r.Reason)
		}
		var node struct {
			Node struct{ RowReasons []rowReason }
		}
		f.api.ok(t, owner, `query($id: ID!) { node(id: $id) { ... on ImportJob { rowReasons { row outcome email reason } } } }`,
			map[string]any{"id": first.JobID}).decode(t, &node)
		if len(node.Node.RowReasons) != 5 || node.Node.RowReasons[0].Row != 3 || node.Node.RowReasons[0].Email == nil || *node.Node.RowReasons[0].Email != "ada@example.com" {
			t.Fatalf("the job's rowReasons: %+v", node.Node.RowReasons)
		}
		if n := auditCount(t, c, "affiliate.create", auditlogentry.ActorTypeUser); n != 3 {
			t.Errorf("got %d affiliate.create audit rows, want 3", n)
		}
		if n := auditCount(t, c, "import_job.create", auditlogentry.ActorTypeUser); n != 1 {
			t.Errorf("got %d import_job.create audit rows, want 1", n)
		}
		if n := must(c.OutboxMessage.Query().Count(sys())).get(t); n != 0 {
			t.Errorf("queued %d emails without notifyAffiliates", n)
		}
	})

	t.Run("running the same import again imports nothing", func(t *testing.T) {
		before := must(c.Affiliate.Query().Count(sys())).get(t)
		again := f.importAffiliates(t, owner, map[string]any{"c": f.a.Campaign, "rows": roster})
		if again.Imported != 0 || again.Skipped != 5 || again.Errored != 2 {
			t.Fatalf("got %+v, want 0 imported, 5 skipped, 2 errored", again)
		}
		if after := must(c.Affiliate.Query().Count(sys())).get(t); after != before {
			t.Fatalf("affiliates went from %d to %d", before, after)
		}
	})

	t.Run("includeStatuses filters", func(t *testing.T) {
		got := f.importAffiliates(t, owner, map[string]any{"c": f.a.Campaign, "inc": []string{"Approved", "pending"}, "rows": []map[string]any{
			{"email": "s1@example.com"}, {"email": "s2@example.com", "status": "pending"}, {"email": "s3@example.com", "status": "rejected"},
		}})
		if got.Imported != 2 || got.Skipped != 1 || !strings.Contains(got.reason(t, 3).Reason, "includeStatuses") {
			t.Fatalf("got %+v, want the rejected row skipped for includeStatuses", got)
		}
		resp := f.api.do(t, owner, importAffiliatesDoc, map[string]any{"c": f.a.Campaign, "inc": []string{"vip"}, "rows": []map[string]any{{"email": "s9@example.com"}}})
		wantError(t, resp, graph.CodeBadUserInput, "includeStatuses")
	})

	t.Run("row limits", func(t *testing.T) {
		for _, n := range []int{0, 1001} {
			before := dbState(t, c)
			resp := f.api.do(t, owner, importAffiliatesDoc, map[string]any{"c": f.a.Campaign, "rows": rows(n, func(i int) map[string]any {
				return map[string]any{"email": fmt.Sprintf("bulk%d@example.com", i)}
			})})
			wantError(t, resp, graph.CodeBadUserInput, "affiliates")
			if dbState(t, c) != before {
				t.Fatalf("%d rows: a refused import changed the database", n)
			}
		}
		got := f.importAffiliates(t, owner, map[string]any{"c": f.a.Campaign, "rows": rows(1000, func(i int) map[string]any {
			return map[string]any{"email": fmt.Sprintf("bulk%d@example.com", i)}
		})})
		if got.Imported != 1000 {
			t.Fatalf("1000 rows: got %+v", got)
		}
	})

	t.Run("plan gate applies to API keys only", func(t *testing.T) {
		vars := func(email string) map[string]any {
			return map[string]any{"c": f.a.Campaign, "rows": []map[string]any{{"email": email}}}
		}
		resp := f.api.do(t, as(f.a.Owner, viewer.ActorAPIKey, "Trial", "trialing"), importAffiliatesDoc, vars("key@example.com"))
		if e := wantError(t, resp, graph.CodePlanRequired, ""); e.Extensions["requiredTier"] != "Starter" {
			t.Fatalf("got requiredTier %v, want Starter", e.Extensions["requiredTier"])
		}
		if got := f.importAffiliates(t, as(f.a.Owner, viewer.ActorAPIKey, "Starter", "active"), vars("key@example.com")); got.Imported != 1 {
			t.Fatalf("Starter API key: got %+v", got)
		}
		if got := f.importAffiliates(t, as(f.a.Owner, viewer.ActorMCP, "Trial", "trialing"), vars("mcp@example.com")); got.Imported != 1 {
			t.Fatalf("MCP on Trial: got %+v", got)
		}
		if n := auditCount(t, c, "affiliate.create", auditlogentry.ActorTypeMcp); n != 1 {
			t.Fatalf("got %d affiliate.create rows by mcp, want 1", n)
		}
	})

	t.Run("notifyAffiliates needs Growth with an active subscription", func(t *testing.T) {
		vars := map[string]any{"c": f.a.Campaign, "notify": true, "msg": `<p>Welcome <strong>aboard</strong></p><script>alert(1)</script>`, "rows": []map[string]any{
			{"email": "n1@example.com", "fullName": "Nina One"}, {"email": "n2@example.com", "status": "pending"}, {"email": "n3@example.com", "status": "blocked"},
		}}
		for _, v := range []*viewer.Viewer{
			as(f.a.Owner, viewer.ActorMCP, "Starter", "active"),
			as(f.a.Owner, viewer.ActorMCP, "Growth", "trialing"),
		} {
			wantError(t, f.api.do(t, v, importAffiliatesDoc, vars), graph.CodePaidPlan, "")
		}
		got := f.importAffiliates(t, as(f.a.Owner, viewer.ActorMCP, "Growth", "active"), vars)
		if got.Imported != 3 {
			t.Fatalf("got %+v", got)
		}
		msgs := must(c.OutboxMessage.Query().Where(outboxmessage.Kind("affiliate_import")).Order(ent.Asc(outboxmessage.FieldToAddress)).All(sys())).get(t)
		if len(msgs) != 2 || msgs[0].ToAddress != "n1@example.com" || msgs[1].ToAddress != "n2@example.com" {
			t.Fatalf("got %d emails, want one each to n1 and n2 (not to the blocked n3)", len(msgs))
		}
		m := msgs[0]
		if !strings.Contains(m.HTMLBody, "<strong>aboard</strong>") || strings.Contains(m.HTMLBody, "<script") || strings.Contains(m.HTMLBody, "alert(1)") {
			t.Fatalf("the note was not sanitized into the email: %s", m.HTMLBody)
		}
		if !strings.Contains(m.TextBody, "https://tandem.test/a/welcome?token=rk_wlc_") || !strings.Contains(m.Subject, "Alpha") {
			t.Fatalf("email lacks the dashboard link or the brand: %q / %s", m.Subject, m.TextBody)
		}
		n1 := must(c.Affiliate.Query().Where(affiliate.Email("n1@example.com")).Only(sys())).get(t)
		if n1.InvitedAt == nil || !n1.InvitedAt.Equal(importNow) {
			t.Fatalf("n1 invitedAt %v, want now", n1.InvitedAt)
		}
		if n := must(c.AffiliateToken.Query().Where(affiliatetoken.AffiliateID(n1.ID), affiliatetoken.PurposeEQ(affiliatetoken.PurposeWelcome)).Count(sys())).get(t); n != 1 {
			t.Fatalf("got %d welcome tokens for n1, want 1", n)
		}

		resp := f.api.do(t, owner, importAffiliatesDoc, map[string]any{"c": f.a.Campaign, "msg": "<p>hi</p>", "rows": []map[string]any{{"email": "n4@example.com"}}})
		wantError(t, resp, graph.CodeBadUserInput, "notificationMessageHtml")
	})

	t.Run("tenancy and roles", func(t *testing.T) {
		vars := map[string]any{"c": f.b.Campaign, "rows": []map[string]any{{"email": "t1@example.com"}}}
		wantError(t, f.api.do(t, owner, importAffiliatesDoc, vars), graph.CodeNotFound, "campaignID")
		vars["c"] = f.a.Campaign
		wantError(t, f.api.do(t, as(f.a.Member, viewer.ActorUser, "Pro", "active"), importAffiliatesDoc, vars), graph.CodeForbidden, "")
	})
}

const (
	previewImportDoc = `query($c: ID!, $rows: [ImportConversionRow!]!) {
  previewConversionImport(campaignID: $c, conversions: $rows) {
    rowsTotal wouldImport wouldSkip wouldError
    skipReasons { row outcome email reason } errors { row outcome email reason }
    paidBalance { rows amountCents commissionCents currency } unpaidBalance { rows amountCents commissionCents currency }
  }
}`
	importConversionsDoc = `mutation($c: ID!, $rows: [ImportConversionRow!]!, $confirm: Boolean, $excludePaid: Boolean) {
  importConversions(campaignID: $c, conversions: $rows, confirmUnpaidPayout: $confirm, excludePaid: $excludePaid) {
    jobID rowsTotal imported skipped errored reasons { row outcome email reason }
    unpaidConfirmedCents unpaidHeldCents paidSettledCents currency
  }
}`
)

type importBalance struct {
	Rows                         int
	AmountCents, CommissionCents int64
	Currency                     string
}

type importPreview struct {
	RowsTotal, WouldImport, WouldSkip, WouldError int
	SkipReasons, Errors                           []rowReason
	PaidBalance, UnpaidBalance                    importBalance
}

func (f *importFixture) importConversions(t *testing.T, v *viewer.Viewer, vars map[string]any) importResult {
	t.Helper()
	var got struct{ ImportConversions importResult }
	f.api.ok(t, v, importConversionsDoc, vars).decode(t, &got)
	return got.ImportConversions
}

// importRows counts the rows an import writes besides audit entries.
func importRows(t *testing.T, c *ent.Client) [2]int {
	t.Helper()
	return [2]int{must(c.Conversion.Query().Count(sys())).get(t), must(c.ImportJob.Query().Count(sys())).get(t)}
}

func TestImportConversions(t *testing.T) {
	f := newImportFixture(t)
	c := f.db.Client
	mcp := as(f.a.Owner, viewer.ActorMCP, "Trial", "trialing")
	batch := []map[string]any{
		{"affiliateEmail": "partner@alpha.test", "amountCents": 10000, "commissionCents": 2000, "currency": "usd", "occurredAt": "2025-12-01T10:00:00Z", "paid": true, "externalId": "in_1"},
		{"affiliateSlug": "alpha-recruit", "amountCents": 5000, "commissionCents": 1000, "currency": "USD", "occurredAt": "2026-01-10T10:00:00Z", "paid": false, "customerEmail": "Cust@X.test"},
		{"affiliateEmail": "PARTNER@alpha.test", "amountCents": 3000, "commissionCents": 600, "currency": "USD", "occurredAt": "2026-01-20T10:00:00Z", "paid": false, "type": "renewal", "externalId": "in_3"},
		{"affiliateEmail": "partner@alpha.test", "amountCents": 3000, "commissionCents": 600, "currency": "EUR", "occurredAt": "2026-01-20T10:00:00Z", "paid": false},
		{"affiliateEmail": "nobody@alpha.test", "amountCents": 3000, "commissionCents": 600, "currency": "USD", "occurredAt": "2026-01-20T10:00:00Z", "paid": false},
		{"affiliateEmail": "partner@alpha.test", "amountCents": 10000, "commissionCents": 2000, "currency": "USD", "occurredAt": "2025-12-01T10:00:00Z", "paid": true, "externalId": "in_1"},
		{"amountCents": 100, "commissionCents": 10, "currency": "USD", "occurredAt": "2026-01-20T10:00:00Z", "paid": false},
	}

	t.Run("preview writes nothing and shows the balances", func(t *testing.T) {
		// A dashboard user: MCP and API-key reads are audit-logged as calls.
		before, audit := importRows(t, c), dbState(t, c)
		var got struct{ PreviewConversionImport importPreview }
		f.api.ok(t, as(f.a.Owner, viewer.ActorUser, "Trial", "trialing"), previewImportDoc, map[string]any{"c": f.a.Campaign, "rows": batch}).decode(t, &got)
		p := got.PreviewConversionImport
		if p.RowsTotal != 7 || p.WouldImport != 3 || p.WouldSkip != 1 || p.WouldError != 3 || len(p.Errors) != 3 || len(p.SkipReasons) != 1 {
			t.Fatalf("got %+v", p)
		}
		if p.PaidBalance != (importBalance{1, 10000, 2000, "USD"}) || p.UnpaidBalance != (importBalance{2, 8000, 1600, "USD"}) {
			t.Fatalf("got paid %+v, unpaid %+v", p.PaidBalance, p.UnpaidBalance)
		}
		for _, e := range p.Errors {
			if e.Row == 4 && !strings.Contains(e.Reason, "EUR") {
				t.Errorf("row 4's error %q does not name the currency", e.Reason)
			}
		}
		if importRows(t, c) != before || dbState(t, c) != audit {
			t.Fatal("the preview wrote something")
		}
		// A read: API keys on Trial may preview.
		f.api.ok(t, as(f.a.Owner, viewer.ActorAPIKey, "Trial", "trialing"), previewImportDoc, map[string]any{"c": f.a.Campaign, "rows": batch})
	})

	var first importResult
	t.Run("without confirmation unpaid rows are held", func(t *testing.T) {
		first = f.importConversions(t, mcp, map[string]any{"c": f.a.Campaign, "rows": batch})
		if first.Imported != 3 || first.Skipped != 1 || first.Errored != 3 ||
			first.UnpaidHeldCents != 1600 || first.UnpaidConfirmedCents != 0 || first.PaidSettledCents != 2000 || first.Currency != "USD" {
			t.Fatalf("got %+v", first)
		}
		got := must(c.Conversion.Query().Where(conversion.ImportJobID(first.JobID)).Order(ent.Asc(conversion.FieldOccurredAt)).All(sys())).get(t)
		if len(got) != 3 {
			t.Fatalf("got %d conversions", len(got))
		}
		paid, held := got[0], got[1]
		wantPaidAt := time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC)
		if paid.Status != conversion.StatusPaid || !paid.Locked || paid.PaidAt == nil || !paid.PaidAt.Equal(wantPaidAt) || *paid.ExternalID != "in_1" {
			t.Fatalf("paid row: %+v, want Paid, locked, paid at its occurredAt", paid)
		}
		if held.Status != conversion.StatusPending || held.Locked || !strings.HasPrefix(*held.ExternalID, "imp_") || held.CustomerEmail != "cust@x.test" ||
			held.HomeCommissionCents != 1000 || held.HomeCurrency != "USD" || held.FxRate != 1 {
			t.Fatalf("held row: %+v", held)
		}
		if got[2].Type != conversion.TypeRenewal || got[2].Status != conversion.StatusPending {
			t.Fatalf("third row: %+v", got[2])
		}
		job := must(c.ImportJob.Get(sys(), first.JobID)).get(t)
		if job.Kind != importjob.KindConversions || job.UnpaidConfirmedCents != 0 || job.Imported != 3 {
			t.Fatalf("job %+v", job)
		}
		if n := auditCount(t, c, "conversion.create", auditlogentry.ActorTypeMcp); n != 3 {
			t.Fatalf("got %d conversion.create audit rows by mcp, want 3", n)
		}
	})

	t.Run("re-running never imports twice, even with confirmation", func(t *testing.T) {
		n := must(c.Conversion.Query().Count(sys())).get(t)
		again := f.importConversions(t, mcp, map[string]any{"c": f.a.Campaign, "rows": batch, "confirm": true})
		if again.Imported != 0 || again.Skipped != 4 || again.UnpaidConfirmedCents != 0 {
			t.Fatalf("got %+v, want every good row skipped", again)
		}
		if !strings.Contains(again.reason(t, 2).Reason, "already imported") {
			t.Fatalf("row 2: %+v", again.reason(t, 2))
		}
		if m := must(c.Conversion.Query().Count(sys())).get(t); m != n {
			t.Fatalf("conversions went from %d to %d", n, m)
		}
		if m := must(c.Conversion.Query().Where(conversion.StatusEQ(conversion.StatusApproved)).Count(sys())).get(t); m != 0 {
			t.Fatalf("%d conversions became payable", m)
		}
	})

	t.Run("confirmUnpaidPayout makes unpaid rows payable", func(t *testing.T) {
		got := f.importConversions(t, mcp, map[string]any{"c": f.a.Campaign, "confirm": true, "rows": []map[string]any{
			{"affiliateEmail": "partner@alpha.test", "amountCents": 7000, "commissionCents": 1400, "currency": "USD", "occurredAt": "2026-01-25T10:00:00Z", "paid": false, "externalId": "in_9"},
			{"affiliateEmail": "partner@alpha.test", "amountCents": 9000, "commissionCents": 1800, "currency": "USD", "occurredAt": "2026-01-26T10:00:00Z", "paid": true, "externalId": "in_8"},
		}})
		if got.Imported != 2 || got.UnpaidConfirmedCents != 1400 || got.UnpaidHeldCents != 0 || got.PaidSettledCents != 1800 {
			t.Fatalf("got %+v", got)
		}
		cv := must(c.Conversion.Query().Where(conversion.ExternalID("in_9")).Only(sys())).get(t)
		if cv.Status != conversion.StatusApproved || cv.Locked || cv.ApprovedAt == nil || !cv.ApprovedAt.Equal(importNow) {
			t.Fatalf("confirmed row: %+v", cv)
		}
		if paid := must(c.Conversion.Query().Where(conversion.ExternalID("in_8")).Only(sys())).get(t); paid.Status != conversion.StatusPaid || !paid.Locked {
			t.Fatalf("paid row under confirmation: %+v, want Paid and locked", paid)
		}
		if job := must(c.ImportJob.Get(sys(), got.JobID)).get(t); job.UnpaidConfirmedCents != 1400 {
			t.Fatalf("job records %d confirmed cents", job.UnpaidConfirmedCents)
		}
	})

	t.Run("excludePaid skips paid rows", func(t *testing.T) {
		got := f.importConversions(t, mcp, map[string]any{"c": f.a.Campaign, "excludePaid": true, "rows": []map[string]any{
			{"affiliateEmail": "partner@alpha.test", "amountCents": 100, "commissionCents": 10, "currency": "USD", "occurredAt": "2026-01-02T10:00:00Z", "paid": true, "externalId": "in_10"},
			{"affiliateEmail": "partner@alpha.test", "amountCents": 200, "commissionCents": 20, "currency": "USD", "occurredAt": "2026-01-03T10:00:00Z", "paid": false, "externalId": "in_11"},
		}})
		if got.Imported != 1 || got.Skipped != 1 || !strings.Contains(got.reason(t, 1).Reason, "excludePaid") || got.PaidSettledCents != 0 {
			t.Fatalf("got %+v", got)
		}
		if ok := must(c.Conversion.Query().Where(conversion.ExternalID("in_10")).Exist(sys())).get(t); ok {
			t.Fatal("the paid row was imported")
		}
	})

	t.Run("row checks", func(t *testing.T) {
		got := f.importConversions(t, mcp, map[string]any{"c": f.a.Campaign, "rows": []map[string]any{
			{"affiliateEmail": "partner@alpha.test", "amountCents": -1, "commissionCents": 10, "currency": "USD", "occurredAt": "2026-01-02T10:00:00Z", "paid": false},
			{"affiliateEmail": "partner@alpha.test", "amountCents": 1, "commissionCents": 10, "currency": "USD", "occurredAt": "2027-01-02T10:00:00Z", "paid": false},
			{"affiliateEmail": "partner@alpha.test", "amountCents": 1, "commissionCents": 10, "currency": "dollars", "occurredAt": "2026-01-02T10:00:00Z", "paid": false},
			{"affiliateEmail": "partner@alpha.test", "affiliateSlug": "alpha-recruit", "amountCents": 1, "commissionCents": 10, "currency": "USD", "occurredAt": "2026-01-02T10:00:00Z", "paid": false},
			{"affiliateEmail": "partner@alpha.test", "amountCents": 1, "commissionCents": 10, "currency": "USD", "occurredAt": "2026-01-02T10:00:00Z", "paid": false, "type": "gift"},
			{"affiliateEmail": "partner@bravo.test", "amountCents": 1, "commissionCents": 10, "currency": "USD", "occurredAt": "2026-01-02T10:00:00Z", "paid": false},
		}})
		if got.Imported != 0 || got.Errored != 6 {
			t.Fatalf("got %+v, want every row errored", got)
		}
		for row, want := range map[int]string{1: "amountCents", 2: "future", 3: "ISO 4217", 4: "different affiliates", 5: "type", 6: "no affiliate"} {
			if r := got.reason(t, row); !strings.Contains(r.Reason, want) {
				t.Errorf("row %d: reason %q does not mention %q", row, r.Reason, want)
			}
		}
		if job := must(c.ImportJob.Get(sys(), got.JobID)).get(t); job.Status != importjob.StatusFailed {
			t.Errorf("a job whose every row errored is %s, want Failed", job.Status)
		}
	})

	t.Run("row limits", func(t *testing.T) {
		for _, n := range []int{0, 1001} {
			vars := map[string]any{"c": f.a.Campaign, "rows": rows(n, func(i int) map[string]any {
				return map[string]any{"affiliateEmail": "partner@alpha.test", "amountCents": i, "commissionCents": 1, "currency": "USD", "occurredAt": "2026-01-02T10:00:00Z", "paid": false}
			})}
			wantError(t, f.api.do(t, mcp, previewImportDoc, vars), graph.CodeBadUserInput, "conversions")
			wantError(t, f.api.do(t, mcp, importConversionsDoc, vars), graph.CodeBadUserInput, "conversions")
		}
	})

	t.Run("gate, tenancy and roles", func(t *testing.T) {
		vars := map[string]any{"c": f.a.Campaign, "rows": batch[:1]}
		resp := f.api.do(t, as(f.a.Owner, viewer.ActorAPIKey, "Trial", "trialing"), importConversionsDoc, vars)
		wantError(t, resp, graph.CodePlanRequired, "")
		f.importConversions(t, as(f.a.Owner, viewer.ActorAPIKey, "Starter", "active"), vars)
		wantError(t, f.api.do(t, as(f.a.Member, viewer.ActorUser, "Pro", "active"), importConversionsDoc, vars), graph.CodeForbidden, "")
		vars["c"] = f.b.Campaign
		wantError(t, f.api.do(t, mcp, importConversionsDoc, vars), graph.CodeNotFound, "campaignID")
		wantError(t, f.api.do(t, mcp, previewImportDoc, vars), graph.CodeNotFound, "campaignID")
	})
}

const revertDoc = `mutation($id: ID!) { revertImport(jobID: $id) { job { id status revertedAt } removed kept { id reason } alreadyReverted } }`

type reversal struct {
	Job struct {
		ID, Status string
		RevertedAt *time.Time
	}
	Removed         int
	Kept            []struct{ ID, Reason string }
	AlreadyReverted bool
}

func TestRevertImport(t *testing.T) {
	f := newImportFixture(t)
	c := f.db.Client
	owner := as(f.a.Owner, viewer.ActorUser, "Growth", "active")
	revert := func(t *testing.T, v *viewer.Viewer, id string) reversal {
		t.Helper()
		var got struct{ RevertImport reversal }
		f.api.ok(t, v, revertDoc, map[string]any{"id": id}).decode(t, &got)
		return got.RevertImport
	}

	t.Run("affiliates", func(t *testing.T) {
		imp := f.importAffiliates(t, owner, map[string]any{"c": f.a.Campaign, "notify": true, "rows": []map[string]any{{"email": "r1@example.com"}, {"email": "r2@example.com"}}})
		r1 := must(c.Affiliate.Query().Where(affiliate.Email("r1@example.com")).Only(sys())).get(t)
		must(c.Click.Create().SetOrgID(f.a.OrgID).SetAffiliateID(r1.ID).SetCampaignID(f.a.Campaign).Save(sys())).get(t)

		wantError(t, f.api.do(t, as(f.a.Member, viewer.ActorUser, "Growth", "active"), revertDoc, map[string]any{"id": imp.JobID}), graph.CodeForbidden, "")
		wantError(t, f.api.do(t, as(f.b.Owner, viewer.ActorUser, "Growth", "active"), revertDoc, map[string]any{"id": imp.JobID}), graph.CodeNotFound, "")

		got := revert(t, owner, imp.JobID)
		if got.Removed != 1 || len(got.Kept) != 1 || got.Kept[0].ID != r1.ID || !strings.Contains(got.Kept[0].Reason, "clicks") {
			t.Fatalf("got %+v, want r2 removed and r1 (with a click) kept", got)
		}
		if got.Job.Status != "Reverted" || got.Job.RevertedAt == nil || !got.Job.RevertedAt.Equal(importNow) || got.AlreadyReverted {
			t.Fatalf("job %+v", got.Job)
		}
		if ok := must(c.Affiliate.Query().Where(affiliate.Email("r2@example.com")).Exist(sys())).get(t); ok {
			t.Fatal("r2 is still there")
		}
		if n := auditCount(t, c, "affiliate.delete", auditlogentry.ActorTypeUser); n != 1 {
			t.Fatalf("got %d affiliate.delete audit rows", n)
		}
		again := revert(t, owner, imp.JobID)
		if !again.AlreadyReverted || again.Removed != 0 {
			t.Fatalf("second revert: %+v", again)
		}
	})

	t.Run("conversions", func(t *testing.T) {
		imp := f.importConversions(t, owner, map[string]any{"c": f.a.Campaign, "confirm": true, "rows": []map[string]any{
			{"affiliateEmail": "partner@alpha.test", "amountCents": 100, "commissionCents": 10, "currency": "USD", "occurredAt": "2026-01-02T10:00:00Z", "paid": false, "externalId": "rv_1"},
			{"affiliateEmail": "partner@alpha.test", "amountCents": 200, "commissionCents": 20, "currency": "USD", "occurredAt": "2026-01-03T10:00:00Z", "paid": false, "externalId": "rv_2"},
		}})
		inPayout := must(c.Conversion.Query().Where(conversion.ExternalID("rv_1")).Only(sys())).get(t)
		must(c.Conversion.UpdateOne(inPayout).SetPayoutLineItemID(f.a.LineItem).Save(sys())).get(t)

		got := revert(t, owner, imp.JobID)
		if got.Removed != 1 || len(got.Kept) != 1 || got.Kept[0].ID != inPayout.ID {
			t.Fatalf("got %+v, want rv_2 removed and rv_1 (in a payout) kept", got)
		}
		if n := must(c.Conversion.Query().Where(conversion.ImportJobID(imp.JobID)).Count(sys())).get(t); n != 1 {
			t.Fatalf("%d of the job's conversions are left, want 1", n)
		}
		// Reverted rows can be imported again: their keys are free.
		if again := f.importConversions(t, owner, map[string]any{"c": f.a.Campaign, "rows": []map[string]any{
			{"affiliateEmail": "partner@alpha.test", "amountCents": 200, "commissionCents": 20, "currency": "USD", "occurredAt": "2026-01-03T10:00:00Z", "paid": false, "externalId": "rv_2"},
		}}); again.Imported != 1 {
			t.Fatalf("re-import after revert: %+v", again)
		}
	})
}

const previewPayoutDoc = `mutation($c: ID, $since: Time) {
  previewPayout(campaignID: $c, since: $since) {
    currency cutoff graceDays totalCents commissionCents overrideCents conversionCount affiliateCount truncated
    affiliates { affiliateID fullName email paypalEmail status conversionCount commissionCents overrideCents totalCents }
    excluded { pendingCount pendingCents tooRecentCount tooRecentCents otherCurrencyCount }
  }
}`

type payoutPreview struct {
	Currency                                   string
	Cutoff                                     time.Time
	GraceDays                                  int
	TotalCents, CommissionCents, OverrideCents int64
	ConversionCount, AffiliateCount            int
	Truncated                                  bool
	Affiliates                                 []struct {
		AffiliateID, FullName, Email, PaypalEmail, Status string
		ConversionCount                                   int
		CommissionCents, OverrideCents, TotalCents        int64
	}
	Excluded struct {
		PendingCount       int
		PendingCents       int64
		TooRecentCount     int
		TooRecentCents     int64
		OtherCurrencyCount int
	}
}

func TestPreviewPayout(t *testing.T) {
	f := newImportFixture(t)
	c := f.db.Client
	ctx := sys()
	org := f.a.OrgID
	cmp := must(c.Campaign.Create().SetOrgID(org).SetName("Payouts").SetSlug("payouts").
		SetSubAffiliatesEnabled(true).SetSubAffiliateOverrideBps(1000).Save(ctx)).get(t)
	aff := func(slug string, recruiter *ent.Affiliate) *ent.Affiliate {
		b := c.Affiliate.Create().SetOrgID(org).SetCampaignID(cmp.ID).SetEmail(slug + "@example.com").SetSlug(slug).
			SetFullName(strings.ToUpper(slug[:1]) + slug[1:]).SetPaypalEmail("pp-" + slug + "@example.com").SetStatus(affiliate.StatusApproved)
		if recruiter != nil {
			b.SetRecruitedByID(recruiter.ID)
		}
		return must(b.Save(ctx)).get(t)
	}
	p := aff("pat", nil)
	r := aff("rae", p)
	q := aff("quinn", nil)
	daysAgo := func(d int) time.Time { return importNow.AddDate(0, 0, -d) }
	type cv struct {
		a          *ent.Affiliate
		status     conversion.Status
		at         time.Time
		commission int64
		override   int64
		locked     bool
		payout     bool
		home       string
	}
	for _, x := range []cv{
		{a: r, status: conversion.StatusApproved, at: daysAgo(40), commission: 1000, override: 100}, // payable, with p's override
		{a: r, status: conversion.StatusApproved, at: daysAgo(10), commission: 500, override: 50},   // too recent
		{a: p, status: conversion.StatusApproved, at: daysAgo(31), commission: 2000},                // payable
		{a: q, status: conversion.StatusPending, at: daysAgo(60), commission: 700},                  // pending
		{a: q, status: conversion.StatusPaid, at: daysAgo(90), commission: 900, locked: true},       // settled history
		{a: q, status: conversion.StatusApproved, at: daysAgo(90), commission: 950, locked: true},   // locked: never payable
		{a: q, status: conversion.StatusApproved, at: daysAgo(50), commission: 300, payout: true},   // already in a payout
		{a: p, status: conversion.StatusApproved, at: daysAgo(35), commission: 400, home: "EUR"},    // another home currency
	} {
		home := x.home
		if home == "" {
			home = "USD"
		}
		b := c.Conversion.Create().SetOrgID(org).SetAffiliateID(x.a.ID).SetCampaignID(cmp.ID).SetStatus(x.status).
			SetOccurredAt(x.at).SetAmountCents(x.commission * 5).SetCommissionCents(x.commission).SetCurrency(home).
			SetHomeAmountCents(x.commission * 5).SetHomeCommissionCents(x.commission).SetHomeCurrency(home).SetLocked(x.locked)
		if x.override > 0 {
			b.SetOverrideAffiliateID(p.ID).SetOverrideCommissionCents(x.override)
		}
		if x.payout {
			b.SetPayoutLineItemID(f.a.LineItem)
		}
		must(b.Save(ctx)).get(t)
	}
	// Another campaign's payable sale, for the org-wide preview.
	must(c.Conversion.Create().SetOrgID(org).SetAffiliateID(f.a.Affiliate).SetCampaignID(f.a.Campaign).SetStatus(conversion.StatusApproved).
		SetOccurredAt(daysAgo(45)).SetAmountCents(20000).SetCommissionCents(4000).SetCurrency("USD").
		SetHomeAmountCents(20000).SetHomeCommissionCents(4000).SetHomeCurrency("USD").Save(ctx)).get(t)

	owner := as(f.a.Owner, viewer.ActorMCP, "Trial", "trialing")
	user := as(f.a.Owner, viewer.ActorUser, "Trial", "trialing")
	preview := func(t *testing.T, vars map[string]any) payoutPreview {
		t.Helper()
		var got struct{ PreviewPayout payoutPreview }
		f.api.ok(t, owner, previewPayoutDoc, vars).decode(t, &got)
		return got.PreviewPayout
	}

	t.Run("one campaign", func(t *testing.T) {
		before := dbState(t, c)
		var viaDashboard struct{ PreviewPayout payoutPreview }
		f.api.ok(t, user, previewPayoutDoc, map[string]any{"c": cmp.ID}).decode(t, &viaDashboard)
		if dbState(t, c) != before {
			t.Fatal("the preview wrote something")
		}
		got := preview(t, map[string]any{"c": cmp.ID})
		if n := auditCount(t, c, "payout.preview", auditlogentry.ActorTypeMcp); n != 1 {
			t.Fatalf("got %d payout.preview audit rows for the MCP call, want 1", n)
		}
		if viaDashboard.PreviewPayout.TotalCents != got.TotalCents {
			t.Fatalf("dashboard and MCP previews differ: %d, %d", viaDashboard.PreviewPayout.TotalCents, got.TotalCents)
		}
		if got.Currency != "USD" || got.GraceDays != 30 || !got.Cutoff.Equal(daysAgo(30)) {
			t.Fatalf("got currency %s, grace %d, cutoff %s", got.Currency, got.GraceDays, got.Cutoff)
		}
		if got.TotalCents != 3100 || got.CommissionCents != 3000 || got.OverrideCents != 100 || got.ConversionCount != 2 || got.AffiliateCount != 2 || len(got.Affiliates) != 2 {
			t.Fatalf("got %+v", got)
		}
		pat, rae := got.Affiliates[0], got.Affiliates[1]
		if pat.AffiliateID != p.ID || pat.CommissionCents != 2000 || pat.OverrideCents != 100 || pat.TotalCents != 2100 || pat.ConversionCount != 1 ||
			pat.Email != "pat@example.com" || pat.PaypalEmail != "pp-pat@example.com" || pat.FullName != "Pat" || pat.Status != "Approved" {
			t.Fatalf("pat: %+v", pat)
		}
		if rae.AffiliateID != r.ID || rae.TotalCents != 1000 || rae.OverrideCents != 0 {
			t.Fatalf("rae: %+v", rae)
		}
		e := got.Excluded
		if e.PendingCount != 1 || e.PendingCents != 700 || e.TooRecentCount != 1 || e.TooRecentCents != 500 || e.OtherCurrencyCount != 1 {
			t.Fatalf("excluded: %+v", e)
		}
	})

	t.Run("every campaign", func(t *testing.T) {
		got := preview(t, nil)
		if got.TotalCents != 7100 || got.AffiliateCount != 3 || got.Affiliates[0].AffiliateID != f.a.Affiliate {
			t.Fatalf("got %+v, want the other campaign's 4000 first", got)
		}
	})

	t.Run("since", func(t *testing.T) {
		got := preview(t, map[string]any{"c": cmp.ID, "since": daysAgo(38).Format(time.RFC3339)})
		if got.TotalCents != 2000 || len(got.Affiliates) != 1 || got.Affiliates[0].OverrideCents != 0 {
			t.Fatalf("got %+v, want only pat's own 2000", got)
		}
	})

	t.Run("a shorter grace period pays recent sales", func(t *testing.T) {
		must(c.Organization.UpdateOneID(org).SetPayoutGraceDays(7).Save(ctx)).get(t)
		defer func() { must(c.Organization.UpdateOneID(org).SetPayoutGraceDays(30).Save(ctx)).get(t) }()
		got := preview(t, map[string]any{"c": cmp.ID})
		if got.TotalCents != 3650 || got.Excluded.TooRecentCount != 0 {
			t.Fatalf("got %+v, want 3100 + 500 + 50 override", got)
		}
	})

	t.Run("imported rows: locked paid never, confirmed yes, held no", func(t *testing.T) {
		f.importConversions(t, owner, map[string]any{"c": cmp.ID, "confirm": true, "rows": []map[string]any{
			{"affiliateEmail": "quinn@example.com", "amountCents": 1000, "commissionCents": 111, "currency": "USD", "occurredAt": daysAgo(100).Format(time.RFC3339), "paid": true},
			{"affiliateEmail": "quinn@example.com", "amountCents": 1000, "commissionCents": 222, "currency": "USD", "occurredAt": daysAgo(100).Format(time.RFC3339), "paid": false},
		}})
		f.importConversions(t, owner, map[string]any{"c": cmp.ID, "rows": []map[string]any{
			{"affiliateEmail": "quinn@example.com", "amountCents": 1000, "commissionCents": 333, "currency": "USD", "occurredAt": daysAgo(100).Format(time.RFC3339), "paid": false},
		}})
		got := preview(t, map[string]any{"c": cmp.ID})
		if got.TotalCents != 3100+222 || got.Excluded.PendingCents != 700+333 {
			t.Fatalf("got total %d, pending %d; want 3322 payable and 1033 pending", got.TotalCents, got.Excluded.PendingCents)
		}
	})

	t.Run("tenancy", func(t *testing.T) {
		wantError(t, f.api.do(t, owner, previewPayoutDoc, map[string]any{"c": f.b.Campaign}), graph.CodeNotFound, "campaignID")
		var got struct{ PreviewPayout payoutPreview }
		f.api.ok(t, as(f.b.Owner, viewer.ActorUser, "Growth", "active"), previewPayoutDoc, nil).decode(t, &got)
		if got.PreviewPayout.TotalCents != 0 || len(got.PreviewPayout.Affiliates) != 0 {
			t.Fatalf("bravo sees %+v", got.PreviewPayout)
		}
	})
}

const createProgramCampaignDoc = `mutation($name: String!, $slug: String!, $type: String, $value: Float, $model: String, $days: Int, $attr: String, $vis: String, $terms: String) {
  createProgramCampaign(name: $name, slug: $slug, defaultCommissionType: $type, defaultCommissionValue: $value, defaultCommissionModel: $model,
    cookieWindowDays: $days, attributionModel: $attr, networkVisibility: $vis, termsUrl: $terms) {
    id slug commissionType commissionValue commissionModel currency cookieWindowDays attributionModel networkVisibility termsURL
  }
}`

func TestCreateProgramCampaign(t *testing.T) {
	f := newImportFixture(t)
	c := f.db.Client
	owner := as(f.a.Owner, viewer.ActorMCP, "Trial", "trialing")
	type created struct {
		ID, Slug, CommissionType, CommissionModel, Currency, AttributionModel, NetworkVisibility, TermsURL string
		CommissionValue                                                                                    int64
		CookieWindowDays                                                                                   int
	}
	create := func(t *testing.T, vars map[string]any) created {
		t.Helper()
		var got struct{ CreateProgramCampaign created }
		f.api.ok(t, owner, createProgramCampaignDoc, vars).decode(t, &got)
		return got.CreateProgramCampaign
	}

	t.Run("maps the tool's units", func(t *testing.T) {
		got := create(t, map[string]any{"name": "Spring", "slug": "Spring-Launch", "type": "percentage", "value": 12.5, "days": 60,
			"attr": "firstclick", "vis": "Public", "terms": "https://example.com/terms"})
		if got.Slug != "spring-launch" || got.CommissionType != "Percentage" || got.CommissionValue != 1250 || got.CommissionModel != "Cps" ||
			got.Currency != "USD" || got.CookieWindowDays != 60 || got.AttributionModel != "FirstClick" || got.NetworkVisibility != "Public" {
			t.Fatalf("got %+v", got)
		}
		if n := auditCount(t, c, "campaign.create", auditlogentry.ActorTypeMcp); n != 1 {
			t.Fatalf("got %d campaign.create audit rows by mcp, want 1", n)
		}
		if got := create(t, map[string]any{"name": "Clicks", "slug": "clicks", "type": "Fixed", "value": 25, "model": "Cpc"}); got.CommissionType != "Fixed" || got.CommissionValue != 25 || got.CommissionModel != "Cpc" {
			t.Fatalf("Cpc Fixed: %+v", got)
		}
		if got := create(t, map[string]any{"name": "Default", "slug": "default"}); got.CommissionType != "Percentage" || got.CommissionValue != 2000 || got.CommissionModel != "Cps" {
			t.Fatalf("defaults: %+v", got)
		}
	})

	t.Run("legacy models", func(t *testing.T) {
		for _, tc := range []struct {
			model, typ string
			value      float64
			wantType   string
			wantValue  int64
		}{
			{"RevShare", "", 30, "Percentage", 3000},
			{"Cpa", "Fixed", 1500, "Fixed", 1500},
			{"hybrid", "Percentage", 10, "Percentage", 1000},
		} {
			vars := map[string]any{"name": tc.model, "slug": "legacy-" + strings.ToLower(tc.model), "model": tc.model, "value": tc.value}
			if tc.typ != "" {
				vars["type"] = tc.typ
			}
			got := create(t, vars)
			if got.CommissionModel != "Cps" || got.CommissionType != tc.wantType || got.CommissionValue != tc.wantValue {
				t.Errorf("%s: got %+v", tc.model, got)
			}
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			vars  map[string]any
			code  string
			field string
		}{
			{"Cpc with Percentage", map[string]any{"type": "Percentage", "model": "Cpc", "value": 10}, graph.CodeBadUserInput, "defaultCommissionType"},
			{"Cpl without a type", map[string]any{"model": "Cpl", "value": 100}, graph.CodeBadUserInput, "defaultCommissionType"},
			{"RevShare with Fixed", map[string]any{"type": "Fixed", "model": "RevShare", "value": 100}, graph.CodeBadUserInput, "defaultCommissionType"},
			{"unknown model", map[string]any{"model": "Cpm"}, graph.CodeBadUserInput, "defaultCommissionModel"},
			{"unknown type", map[string]any{"type": "Tiered"}, graph.CodeBadUserInput, "defaultCommissionType"},
			{"percent over 100", map[string]any{"type": "Percentage", "value": 150}, graph.CodeBadUserInput, "defaultCommissionValue"},
			{"negative", map[string]any{"value": -1}, graph.CodeBadUserInput, "defaultCommissionValue"},
			{"fractional minor units", map[string]any{"type": "Fixed", "value": 12.5}, graph.CodeBadUserInput, "defaultCommissionValue"},
			{"Fixed without a value", map[string]any{"type": "Fixed"}, graph.CodeBadUserInput, "defaultCommissionValue"},
			{"cookie window", map[string]any{"days": 366}, graph.CodeBadUserInput, "cookieWindowDays"},
			{"attribution", map[string]any{"attr": "linear"}, graph.CodeBadUserInput, "attributionModel"},
			{"visibility", map[string]any{"vis": "secret"}, graph.CodeBadUserInput, "networkVisibility"},
			{"terms URL", map[string]any{"terms": "javascript:alert(1)"}, graph.CodeBadUserInput, "termsUrl"},
			{"bad slug", map[string]any{"slug": "no spaces"}, graph.CodeBadUserInput, "slug"},
			{"slug taken", map[string]any{"slug": "alpha-program"}, graph.CodeConflict, "slug"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				vars := map[string]any{"name": "Refused", "slug": "refused"}
				for k, v := range tc.vars {
					vars[k] = v
				}
				before := dbState(t, c)
				e := wantError(t, f.api.do(t, owner, createProgramCampaignDoc, vars), tc.code, tc.field)
				if tc.code == graph.CodeConflict && e.Extensions["reason"] != "slug_already_taken" {
					t.Fatalf("got reason %v", e.Extensions["reason"])
				}
				if dbState(t, c) != before {
					t.Fatal("a refused create changed the database")
				}
			})
		}
		// Another organization's slug is free here.
		if got := create(t, map[string]any{"name": "Bravo's slug", "slug": "bravo-program"}); got.Slug != "bravo-program" {
			t.Fatalf("got %+v", got)
		}
	})

	t.Run("the generic mutations obey the pairing rule", func(t *testing.T) {
		const createDoc = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id commissionType commissionModel } }`
		const updateDoc = `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { id commissionType commissionModel commissionValue } }`
		wantError(t, f.api.do(t, owner, createDoc, map[string]any{"input": map[string]any{"name": "G", "slug": "generic-cpc", "commissionModel": "Cpc"}}),
			graph.CodeBadUserInput, "commissionType")
		wantError(t, f.api.do(t, owner, createDoc, map[string]any{"input": map[string]any{"name": "G", "slug": "generic-big", "commissionValue": 10001}}),
			graph.CodeBadUserInput, "commissionValue")
		f.api.ok(t, owner, createDoc, map[string]any{"input": map[string]any{"name": "G", "slug": "generic-cpl", "commissionModel": "Cpl", "commissionType": "Fixed", "commissionValue": 300}})

		// The seed campaign is Percentage: switching it to Cpc alone is refused,
		// with Fixed it is allowed, and back to Percentage while Cpc is refused.
		wantError(t, f.api.do(t, owner, updateDoc, map[string]any{"id": f.a.Campaign, "input": map[string]any{"commissionModel": "Cpc"}}), graph.CodeBadUserInput, "commissionType")
		f.api.ok(t, owner, updateDoc, map[string]any{"id": f.a.Campaign, "input": map[string]any{"commissionModel": "Cpc", "commissionType": "Fixed", "commissionValue": 50}})
		wantError(t, f.api.do(t, owner, updateDoc, map[string]any{"id": f.a.Campaign, "input": map[string]any{"commissionType": "Percentage"}}), graph.CodeBadUserInput, "commissionType")
		cmp := must(c.Campaign.Query().Where(campaign.ID(f.a.Campaign)).Only(sys())).get(t)
		if cmp.CommissionModel != campaign.CommissionModelCpc || cmp.CommissionType != campaign.CommissionTypeFixed {
			t.Fatalf("campaign is %s %s", cmp.CommissionModel, cmp.CommissionType)
		}
		// Tenancy: another organization's campaign is not found.
		wantError(t, f.api.do(t, owner, updateDoc, map[string]any{"id": f.b.Campaign, "input": map[string]any{"commissionModel": "Cpc", "commissionType": "Fixed"}}), graph.CodeNotFound, "")
	})
}
