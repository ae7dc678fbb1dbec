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
	"github.com/tandemhq/tandem/ent/lead"
	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

const (
	approveQ = `mutation($id: ID!) { approveAffiliate(id: $id) { id status approvedAt rejectionReason } }`
	rejectQ  = `mutation($id: ID!, $reason: String, $notify: Boolean) { rejectAffiliate(id: $id, reason: $reason, notify: $notify) { id status rejectionReason } }`
	inviteQ  = `mutation($campaignID: ID!, $email: String!, $fullName: String, $slug: String, $note: String, $type: AffiliateCustomCommissionType, $value: Int, $autoApprove: Boolean) {
		createAffiliateInvite(campaignID: $campaignID, email: $email, fullName: $fullName, slug: $slug, personalNoteHtml: $note,
			customCommissionType: $type, customCommissionValue: $value, autoApprove: $autoApprove) {
			inviteSent alreadyInvited
			affiliate { id email fullName slug status invitedAt approvedAt campaignID customCommissionType customCommissionValue }
		}
	}`
	bulkQ = `mutation($campaignID: ID!, $recipients: [InviteRecipientInput!], $emails: [String!], $note: String, $autoApprove: Boolean) {
		bulkInviteAffiliates(campaignID: $campaignID, recipients: $recipients, emails: $emails, personalNoteHtml: $note, autoApprove: $autoApprove) {
			invited alreadyInvited
			slugConflicts { email requestedSlug assignedSlug reason }
			errors { email reason }
			affiliates { id email slug status }
		}
	}`
	embedQ = `mutation($id: ID!, $hours: Int, $origins: [String!], $rotate: Boolean) {
		mintEmbedToken(affiliateID: $id, expiresInHours: $hours, allowedOrigins: $origins, rotate: $rotate) {
			token tokenId expiresAt allowedOrigins embedURL revokedTokens
		}
	}`
	leadQ = `mutation($slug: String!, $email: String!, $name: String, $campaignID: ID) {
		recordLead(affiliateSlug: $slug, email: $email, name: $name, campaignID: $campaignID) { id email name source affiliateID campaignID occurredAt }
	}`
)

// enrollmentAPI is the test API with a fixed clock, and the tenants alpha
// and bravo.
func enrollmentAPI(t *testing.T) (*api, *ent.Client, *clock, *tenant, *tenant) {
	t.Helper()
	db := storetest.SQLite(t)
	clk := newClock()
	deps := testDeps()
	deps.Now = clk.Now
	return newAPIWith(db.Client, graph.Options{}, deps), db.Client, clk, seedTenant(t, db.Client, "alpha"), seedTenant(t, db.Client, "bravo")
}

// on returns the tenant's owner on a plan.
func on(tn *tenant, plan, status string) *viewer.Viewer {
	v := *tn.Owner
	v.Plan, v.SubscriptionStatus, v.EmailVerified = plan, status, true
	return &v
}

func outbox(t *testing.T, c *ent.Client, to string) []*ent.OutboxMessage {
	t.Helper()
	return must(c.OutboxMessage.Query().Where(outboxmessage.ToAddress(to)).Order(ent.Asc(outboxmessage.FieldID)).All(sys())).get(t)
}

func audits(t *testing.T, c *ent.Client, action, entityID string) []*ent.AuditLogEntry {
	t.Helper()
	return must(c.AuditLogEntry.Query().Where(auditlogentry.Action(action), auditlogentry.EntityID(entityID)).All(sys())).get(t)
}

var welcomeLink = regexp.MustCompile(`https://tandem\.test/a/welcome\?token=rk_wlc_[A-Za-z0-9_-]{43}`)

// wantBranded checks that an email carries the organization's brand and a
// dashboard link in both bodies.
func wantBranded(t *testing.T, m *ent.OutboxMessage, orgName, color string) {
	t.Helper()
	if !strings.Contains(m.HTMLBody, orgName) || !strings.Contains(m.HTMLBody, "background:"+color) {
		t.Errorf("%s email is not branded with %s and %s:\n%s", m.Kind, orgName, color, m.HTMLBody)
	}
	if !welcomeLink.MatchString(m.TextBody) || !welcomeLink.MatchString(m.HTMLBody) {
		t.Errorf("%s email has no dashboard link:\n%s", m.Kind, m.TextBody)
	}
}

func TestEnrollmentApprove(t *testing.T) {
	api, c, clk, a, b := enrollmentAPI(t)
	owner := on(a, "Trial", "trialing")

	var got struct {
		ApproveAffiliate struct {
			ID, Status string
			ApprovedAt *time.Time
		}
	}
	api.ok(t, owner, approveQ, map[string]any{"id": a.Affiliate}).decode(t, &got)
	if got.ApproveAffiliate.Status != "Approved" || got.ApproveAffiliate.ApprovedAt == nil || !got.ApproveAffiliate.ApprovedAt.Equal(clk.Now()) {
		t.Fatalf("approved %+v", got.ApproveAffiliate)
	}
	mails := outbox(t, c, "partner@alpha.test")
	if len(mails) != 1 || mails[0].Kind != "affiliate_approved" || mails[0].OrgID != a.OrgID {
		t.Fatalf("outbox %+v", mails)
	}
	wantBranded(t, mails[0], "Alpha", "#4f46e5")
	if !strings.Contains(mails[0].Subject, "alpha program") {
		t.Errorf("subject %q does not name the campaign", mails[0].Subject)
	}
	tok := must(c.AffiliateToken.Query().Where(affiliatetoken.AffiliateID(a.Affiliate)).Only(sys())).get(t)
	if tok.Purpose != affiliatetoken.PurposeWelcome || !tok.ExpiresAt.Equal(clk.Now().Add(7*24*time.Hour)) {
		t.Errorf("welcome token %+v", tok)
	}
	if e := audits(t, c, "affiliate.update", a.Affiliate); len(e) != 1 || e[0].ActorID != a.OwnerUser || e[0].After["status"] != "Approved" {
		t.Errorf("audit entries %+v", e)
	}

	// Approving again is a no-op: no second email, token or audit entry.
	api.ok(t, owner, approveQ, map[string]any{"id": a.Affiliate})
	if n := len(outbox(t, c, "partner@alpha.test")); n != 1 {
		t.Errorf("re-approving sent %d emails in all, want 1", n)
	}
	if n := must(c.AffiliateToken.Query().Where(affiliatetoken.AffiliateID(a.Affiliate)).Count(sys())).get(t); n != 1 {
		t.Errorf("re-approving minted another token: %d", n)
	}
	if n := len(audits(t, c, "affiliate.update", a.Affiliate)); n != 1 {
		t.Errorf("re-approving wrote %d audit entries in all, want 1", n)
	}

	// Blocked: refused, with the way out in the message.
	must(c.Affiliate.UpdateOneID(a.Recruit).SetStatus(affiliate.StatusBlocked).Save(sys())).get(t)
	e := wantError(t, api.do(t, owner, approveQ, map[string]any{"id": a.Recruit}), graph.CodeConflict, "id")
	if e.Extensions["reason"] != "affiliate_blocked" || !strings.Contains(e.Message, "blocked") {
		t.Errorf("blocked: %+v", e)
	}

	// Tenancy and roles.
	wantError(t, api.do(t, owner, approveQ, map[string]any{"id": b.Affiliate}), graph.CodeNotFound, "id")
	wantError(t, api.do(t, a.Member, approveQ, map[string]any{"id": a.Recruit}), graph.CodeForbidden, "")
	if s := must(c.Affiliate.Get(sys(), b.Affiliate)).get(t).Status; s != affiliate.StatusPending {
		t.Errorf("bravo's affiliate became %s", s)
	}
}

func TestEnrollmentReject(t *testing.T) {
	api, c, _, a, b := enrollmentAPI(t)
	owner := on(a, "Trial", "trialing")

	wantError(t, api.do(t, owner, rejectQ, map[string]any{"id": a.Affiliate, "reason": strings.Repeat("x", 1001)}), graph.CodeBadUserInput, "reason")
	api.ok(t, owner, rejectQ, map[string]any{"id": a.Affiliate, "reason": strings.Repeat("é", 400)}) // 800 bytes: fits
	must(c.Affiliate.UpdateOneID(a.Affiliate).SetStatus(affiliate.StatusPending).Save(sys())).get(t)
	must(c.OutboxMessage.Delete().Exec(sys())).get(t)

	var got struct {
		RejectAffiliate struct{ Status, RejectionReason string }
	}
	reason := "Your site <b>is</b> a coupon aggregator"
	api.ok(t, owner, rejectQ, map[string]any{"id": a.Affiliate, "reason": reason}).decode(t, &got)
	if got.RejectAffiliate.Status != "Rejected" || got.RejectAffiliate.RejectionReason != reason {
		t.Fatalf("rejected %+v", got.RejectAffiliate)
	}
	mails := outbox(t, c, "partner@alpha.test")
	if len(mails) != 1 || mails[0].Kind != "affiliate_rejected" {
		t.Fatalf("outbox %+v", mails)
	}
	if !strings.Contains(mails[0].TextBody, reason) || !strings.Contains(mails[0].HTMLBody, "&lt;b&gt;is&lt;/b&gt;") || !strings.Contains(mails[0].HTMLBody, "Alpha") {
		t.Errorf("rejection email does not quote the reason, escaped:\n%s", mails[0].HTMLBody)
	}
	if e := audits(t, c, "affiliate.update", a.Affiliate); len(e) == 0 || e[len(e)-1].After["status"] != "Rejected" {
		t.Errorf("audit entries %+v", e)
	}

	// Again: nothing changes, nothing is sent.
	api.ok(t, owner, rejectQ, map[string]any{"id": a.Affiliate, "reason": reason})
	if n := len(outbox(t, c, "partner@alpha.test")); n != 1 {
		t.Errorf("re-rejecting sent %d emails in all", n)
	}

	// Without notify: rejected, no email.
	api.ok(t, owner, rejectQ, map[string]any{"id": a.Recruit, "notify": false})
	if n := len(outbox(t, c, "recruit@alpha.test")); n != 0 {
		t.Errorf("notify false sent %d emails", n)
	}

	// An approved affiliate cannot be rejected.
	must(c.Affiliate.UpdateOneID(a.Recruit).SetStatus(affiliate.StatusApproved).Save(sys())).get(t)
	e := wantError(t, api.do(t, owner, rejectQ, map[string]any{"id": a.Recruit}), graph.CodeConflict, "id")
	if e.Extensions["reason"] != "affiliate_already_approved" || !strings.Contains(e.Message, "Blocked") {
		t.Errorf("approved: %+v", e)
	}
	wantError(t, api.do(t, owner, rejectQ, map[string]any{"id": b.Affiliate}), graph.CodeNotFound, "id")
}

type inviteResult struct {
	CreateAffiliateInvite struct {
		InviteSent, AlreadyInvited bool
		Affiliate                  struct {
			ID, Email, Slug, Status, CampaignID string
			FullName                            *string
			InvitedAt, ApprovedAt               *time.Time
			CustomCommissionType                *string
			CustomCommissionValue               *int
		}
	}
}

func TestEnrollmentInvite(t *testing.T) {
	api, c, clk, a, b := enrollmentAPI(t)
	must(c.Organization.UpdateOneID(a.OrgID).SetBrandColor("#0a7c3e").Save(sys())).get(t)
	trial := on(a, "Trial", "trialing") // invitations work on every plan

	note := `<p>Hi <strong>Grace</strong>!</p><script>steal()</script><style>p{display:none}</style><p onclick="evil()" style="color:red">See <a href="https://alpha.test/kit">the kit</a></p>`
	var got inviteResult
	api.ok(t, trial, inviteQ, map[string]any{"campaignID": a.Campaign, "email": " Grace@Example.COM ", "fullName": "Grace Hopper", "note": note,
		"type": "Percentage", "value": 2500}).decode(t, &got)
	inv := got.CreateAffiliateInvite
	if !inv.InviteSent || inv.AlreadyInvited || inv.Affiliate.Email != "grace@example.com" || inv.Affiliate.Status != "Approved" ||
		inv.Affiliate.CampaignID != a.Campaign || inv.Affiliate.InvitedAt == nil || !inv.Affiliate.InvitedAt.Equal(clk.Now()) || inv.Affiliate.ApprovedAt == nil ||
		inv.Affiliate.CustomCommissionValue == nil || *inv.Affiliate.CustomCommissionValue != 2500 {
		t.Fatalf("invite %+v", inv)
	}
	if !regexp.MustCompile(`^grace-hopper-[a-z0-9]{4}$`).MatchString(inv.Affiliate.Slug) {
		t.Errorf("random slug %q is not readable", inv.Affiliate.Slug)
	}
	mails := outbox(t, c, "grace@example.com")
	if len(mails) != 1 || mails[0].Kind != "affiliate_invite" {
		t.Fatalf("outbox %+v", mails)
	}
	m := mails[0]
	wantBranded(t, m, "Alpha", "#0a7c3e")
	for _, want := range []string{"<strong>Grace</strong>", `<a href="https://alpha.test/kit" rel="nofollow noopener" target="_blank">the kit</a>`, "25%", inv.Affiliate.Slug} {
		if !strings.Contains(m.HTMLBody, want) {
			t.Errorf("invite HTML lacks %q", want)
		}
	}
	for _, gone := range []string{"<script", "steal()", "display:none", "onclick", "evil()", "color:red"} {
		if strings.Contains(m.HTMLBody, gone) {
			t.Errorf("invite HTML keeps %q from the note", gone)
		}
	}
	if !strings.Contains(m.TextBody, "See the kit (https://alpha.test/kit)") {
		t.Errorf("text body lacks the note:\n%s", m.TextBody)
	}
	if e := audits(t, c, "affiliate.create", inv.Affiliate.ID); len(e) != 1 || e[0].ActorID != a.OwnerUser {
		t.Errorf("audit entries %+v", e)
	}

	// The same email again: the existing affiliate, invited again.
	var again inviteResult
	api.ok(t, trial, inviteQ, map[string]any{"campaignID": a.Campaign, "email": "grace@example.com", "slug": "other-slug"}).decode(t, &again)
	if !again.CreateAffiliateInvite.AlreadyInvited || !again.CreateAffiliateInvite.InviteSent ||
		again.CreateAffiliateInvite.Affiliate.ID != inv.Affiliate.ID || again.CreateAffiliateInvite.Affiliate.Slug != inv.Affiliate.Slug {
		t.Errorf("re-invite %+v", again.CreateAffiliateInvite)
	}
	if n := len(outbox(t, c, "grace@example.com")); n != 2 {
		t.Errorf("re-invite: %d emails in all, want 2", n)
	}

	// A migrated slug is kept; a taken one is refused by name.
	var kept inviteResult
	api.ok(t, trial, inviteQ, map[string]any{"campaignID": a.Campaign, "email": "linus@example.com", "slug": "linus-t", "autoApprove": false}).decode(t, &kept)
	if kept.CreateAffiliateInvite.Affiliate.Slug != "linus-t" || kept.CreateAffiliateInvite.Affiliate.Status != "Pending" || kept.CreateAffiliateInvite.Affiliate.ApprovedAt != nil {
		t.Errorf("kept slug %+v", kept.CreateAffiliateInvite.Affiliate)
	}
	before := dbState(t, c)
	e := wantError(t, api.do(t, trial, inviteQ, map[string]any{"campaignID": a.Campaign, "email": "new@example.com", "slug": "alpha-partner"}), graph.CodeConflict, "slug")
	if e.Extensions["reason"] != "slug_already_taken" ||
		e.Message != "the slug alpha-partner is taken in this organization; choose another or omit slug for a random one" {
		t.Errorf("taken slug: %+v", e)
	}
	if dbState(t, c) != before {
		t.Error("a refused invite changed the database")
	}
	// Another organization's slug is not taken here.
	api.ok(t, trial, inviteQ, map[string]any{"campaignID": a.Campaign, "email": "new@example.com", "slug": "bravo-partner"})

	for _, tc := range []struct {
		name  string
		vars  map[string]any
		code  string
		field string
	}{
		{"bad email", map[string]any{"campaignID": a.Campaign, "email": "not-an-email"}, graph.CodeBadUserInput, "email"},
		{"display-name email", map[string]any{"campaignID": a.Campaign, "email": "Ada <ada@example.com>"}, graph.CodeBadUserInput, "email"},
		{"bad slug", map[string]any{"campaignID": a.Campaign, "email": "x@example.com", "slug": "Not A Slug"}, graph.CodeBadUserInput, "slug"},
		{"long note", map[string]any{"campaignID": a.Campaign, "email": "x@example.com", "note": strings.Repeat("a", 5001)}, graph.CodeBadUserInput, "personalNoteHtml"},
		{"percentage over 100", map[string]any{"campaignID": a.Campaign, "email": "x@example.com", "type": "Percentage", "value": 10001}, graph.CodeBadUserInput, "customCommissionValue"},
		{"type without value", map[string]any{"campaignID": a.Campaign, "email": "x@example.com", "type": "Fixed"}, graph.CodeBadUserInput, "customCommissionValue"},
		{"another org's campaign", map[string]any{"campaignID": b.Campaign, "email": "x@example.com"}, graph.CodeNotFound, "campaignID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, api.do(t, trial, inviteQ, tc.vars), tc.code, tc.field)
		})
	}
	if n := must(c.Affiliate.Query().Where(affiliate.Email("x@example.com")).Count(sys())).get(t); n != 0 {
		t.Errorf("refused invites created %d affiliates", n)
	}

	// A rejected affiliate is not invited behind the brand's back.
	must(c.Affiliate.UpdateOneID(a.Recruit).SetStatus(affiliate.StatusRejected).Save(sys())).get(t)
	e = wantError(t, api.do(t, trial, inviteQ, map[string]any{"campaignID": a.Campaign, "email": "recruit@alpha.test"}), graph.CodeConflict, "email")
	if e.Extensions["reason"] != "affiliate_rejected" {
		t.Errorf("rejected: %+v", e)
	}
}

type bulkResult struct {
	BulkInviteAffiliates struct {
		Invited, AlreadyInvited int
		SlugConflicts           []struct{ Email, RequestedSlug, AssignedSlug, Reason string }
		Errors                  []struct{ Email, Reason string }
		Affiliates              []struct{ ID, Email, Slug, Status string }
	}
}

func TestEnrollmentBulkInvite(t *testing.T) {
	api, c, _, a, b := enrollmentAPI(t)
	starter := on(a, "Starter", "active")

	// The plan gate: trial and lapsed plans are refused, with nothing written.
	before := dbState(t, c)
	vars := map[string]any{"campaignID": a.Campaign, "emails": []string{"one@example.com"}}
	e := wantError(t, api.do(t, on(a, "Trial", "trialing"), bulkQ, vars), graph.CodePaidPlan, "")
	if e.Extensions["requiredTier"] != "Starter" {
		t.Errorf("requiredTier %v", e.Extensions["requiredTier"])
	}
	wantError(t, api.do(t, on(a, "Growth", "past_due"), bulkQ, vars), graph.CodePaidPlan, "")
	if dbState(t, c) != before || len(outbox(t, c, "one@example.com")) != 0 {
		t.Error("a refused bulk invite wrote something")
	}

	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("p%d@example.com", i)
	}
	for _, tc := range []struct {
		name  string
		vars  map[string]any
		field string
	}{
		{"51 emails", map[string]any{"campaignID": a.Campaign, "emails": many}, "emails"},
		{"no rows", map[string]any{"campaignID": a.Campaign, "recipients": []any{}}, "recipients"},
		{"neither", map[string]any{"campaignID": a.Campaign}, "recipients"},
		{"both", map[string]any{"campaignID": a.Campaign, "emails": []string{"a@example.com"}, "recipients": []any{map[string]any{"email": "b@example.com"}}}, "recipients"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, api.do(t, starter, bulkQ, tc.vars), graph.CodeBadUserInput, tc.field)
		})
	}
	wantError(t, api.do(t, starter, bulkQ, map[string]any{"campaignID": b.Campaign, "emails": []string{"a@example.com"}}), graph.CodeNotFound, "campaignID")
	api.ok(t, starter, bulkQ, map[string]any{"campaignID": a.Campaign, "emails": many[:50]})

	var got bulkResult
	api.ok(t, starter, bulkQ, map[string]any{
		"campaignID": a.Campaign,
		"note":       `<p onclick="x()">Welcome over from Rewardful</p>`,
		"recipients": []any{
			map[string]any{"email": "kept@example.com", "slug": "kept-slug", "fullName": "Kept Slug"},
			map[string]any{"email": "clash@example.com", "slug": "alpha-partner", "fullName": "Clash Person"},
			map[string]any{"email": "Kept@Example.com", "slug": "dup"}, // repeats the first row
			map[string]any{"email": "bogus"},
			map[string]any{"email": "partner@alpha.test"}, // already an affiliate
			map[string]any{"email": "ugly@example.com", "slug": "Ugly Slug!"},
		},
	}).decode(t, &got)
	res := got.BulkInviteAffiliates
	if res.Invited != 3 || res.AlreadyInvited != 1 || len(res.Affiliates) != 4 {
		t.Fatalf("bulk %+v", res)
	}
	if len(res.Errors) != 1 || res.Errors[0].Email != "bogus" {
		t.Errorf("errors %+v", res.Errors)
	}
	if len(res.SlugConflicts) != 2 {
		t.Fatalf("slug conflicts %+v", res.SlugConflicts)
	}
	clash := res.SlugConflicts[0]
	if clash.Email != "clash@example.com" || clash.RequestedSlug != "alpha-partner" || clash.Reason != "slug_already_taken" ||
		!regexp.MustCompile(`^clash-person-[a-z0-9]{4}$`).MatchString(clash.AssignedSlug) {
		t.Errorf("clash %+v", clash)
	}
	if u := res.SlugConflicts[1]; u.Email != "ugly@example.com" || u.Reason != "invalid_slug" || u.AssignedSlug == "" {
		t.Errorf("invalid slug %+v", u)
	}
	if res.Affiliates[0].Slug != "kept-slug" || res.Affiliates[1].Slug != clash.AssignedSlug || res.Affiliates[2].ID != a.Affiliate {
		t.Errorf("affiliates %+v", res.Affiliates)
	}
	if n := len(outbox(t, c, "kept@example.com")); n != 1 {
		t.Errorf("the repeated row sent %d emails, want 1", n)
	}
	m := outbox(t, c, "clash@example.com")
	if len(m) != 1 || !strings.Contains(m[0].HTMLBody, "Welcome over from Rewardful") || strings.Contains(m[0].HTMLBody, "onclick") {
		t.Fatalf("clash email %+v", m)
	}
	wantBranded(t, m[0], "Alpha", "#4f46e5")
	if n := len(outbox(t, c, "partner@alpha.test")); n != 1 {
		t.Errorf("the existing affiliate got %d emails, want the invitation again", n)
	}
	if e := audits(t, c, "affiliate.create", res.Affiliates[0].ID); len(e) != 1 {
		t.Errorf("audit entries %+v", e)
	}
}

type embedResult struct {
	MintEmbedToken struct {
		Token, TokenID, EmbedURL string
		ExpiresAt                time.Time
		AllowedOrigins           []string
		RevokedTokens            int
	}
}

func TestEnrollmentMintEmbedToken(t *testing.T) {
	api, c, clk, a, b := enrollmentAPI(t)
	growth := on(a, "Growth", "active")

	e := wantError(t, api.do(t, on(a, "Starter", "active"), embedQ, map[string]any{"id": a.Affiliate}), graph.CodePlanRequired, "")
	if e.Extensions["requiredTier"] != "Growth" {
		t.Errorf("requiredTier %v", e.Extensions["requiredTier"])
	}
	mcpStarter := on(a, "Starter", "active")
	mcpStarter.ActorType = viewer.ActorMCP
	wantError(t, api.do(t, mcpStarter, embedQ, map[string]any{"id": a.Affiliate}), graph.CodePlanRequired, "")
	for _, h := range []int{0, 721, -5} {
		wantError(t, api.do(t, growth, embedQ, map[string]any{"id": a.Affiliate, "hours": h}), graph.CodeBadUserInput, "expiresInHours")
	}
	wantError(t, api.do(t, growth, embedQ, map[string]any{"id": a.Affiliate, "origins": []string{"http://shop.example.com"}}), graph.CodeBadUserInput, "allowedOrigins")
	wantError(t, api.do(t, growth, embedQ, map[string]any{"id": a.Affiliate, "origins": "https://shop.example.com/embed"}), graph.CodeBadUserInput, "allowedOrigins")
	wantError(t, api.do(t, growth, embedQ, map[string]any{"id": b.Affiliate}), graph.CodeNotFound, "affiliateID")
	if n := must(c.AffiliateToken.Query().Count(sys())).get(t); n != 0 {
		t.Fatalf("refused mints stored %d tokens", n)
	}

	var first embedResult
	api.ok(t, growth, embedQ, map[string]any{"id": a.Affiliate, "origins": "https://Shop.Example.com:443"}).decode(t, &first)
	tok := first.MintEmbedToken
	if !strings.HasPrefix(tok.Token, "rk_emb_") || tok.EmbedURL != "https://tandem.test/embed/affiliate?token="+tok.Token ||
		!tok.ExpiresAt.Equal(clk.Now().Add(24*time.Hour)) || len(tok.AllowedOrigins) != 1 || tok.AllowedOrigins[0] != "https://shop.example.com" {
		t.Fatalf("minted %+v", tok)
	}
	row := must(c.AffiliateToken.Get(sys(), tok.TokenID)).get(t)
	if row.Purpose != affiliatetoken.PurposeEmbed || row.SecretHash == tok.Token || row.OrgID != a.OrgID {
		t.Errorf("stored %+v", row)
	}
	ae := audits(t, c, "affiliate_token.create", tok.TokenID)
	if len(ae) != 1 || ae[0].ActorID != a.OwnerUser {
		t.Fatalf("audit entries %+v", ae)
	}
	if _, leaked := ae[0].After["secret_hash"]; leaked || strings.Contains(fmt.Sprint(ae[0].After), tok.Token) {
		t.Errorf("audit entry holds the secret: %v", ae[0].After)
	}

	var second embedResult
	api.ok(t, growth, embedQ, map[string]any{"id": a.Affiliate, "hours": 720}).decode(t, &second)
	if !second.MintEmbedToken.ExpiresAt.Equal(clk.Now().Add(720*time.Hour)) || len(second.MintEmbedToken.AllowedOrigins) != 0 || second.MintEmbedToken.RevokedTokens != 0 {
		t.Errorf("second %+v", second.MintEmbedToken)
	}
	var rotated embedResult
	api.ok(t, growth, embedQ, map[string]any{"id": a.Affiliate, "rotate": true}).decode(t, &rotated)
	if rotated.MintEmbedToken.RevokedTokens != 2 {
		t.Errorf("rotate revoked %d, want 2", rotated.MintEmbedToken.RevokedTokens)
	}
	for _, id := range []string{tok.TokenID, second.MintEmbedToken.TokenID} {
		if r := must(c.AffiliateToken.Get(sys(), id)).get(t); r.RevokedAt == nil || !r.RevokedAt.Equal(clk.Now()) {
			t.Errorf("token %s not revoked: %v", id, r.RevokedAt)
		}
		if len(audits(t, c, "affiliate_token.update", id)) != 1 {
			t.Errorf("no audit entry for revoking %s", id)
		}
	}
	if r := must(c.AffiliateToken.Get(sys(), rotated.MintEmbedToken.TokenID)).get(t); r.RevokedAt != nil {
		t.Error("rotate revoked the new token")
	}
}

type leadResult struct {
	RecordLead struct {
		ID, Email, Source, AffiliateID, CampaignID string
		Name                                       *string
	}
}

func TestEnrollmentRecordLead(t *testing.T) {
	api, c, _, a, b := enrollmentAPI(t)
	mcp := on(a, "Trial", "trialing")
	mcp.ActorType, mcp.TokenID = viewer.ActorMCP, a.MCPToken

	var got leadResult
	api.ok(t, mcp, leadQ, map[string]any{"slug": "alpha-partner", "email": "Signup@Example.com", "name": "Sam"}).decode(t, &got)
	l := got.RecordLead
	if l.Email != "signup@example.com" || l.Source != "Mcp" || l.AffiliateID != a.Affiliate || l.CampaignID != a.Campaign || l.Name == nil || *l.Name != "Sam" {
		t.Fatalf("lead %+v", l)
	}
	if e := audits(t, c, "lead.create", l.ID); len(e) != 1 || string(e[0].ActorType) != "mcp" || e[0].TokenID != a.MCPToken {
		t.Errorf("audit entries %+v", e)
	}

	// Idempotent by (campaign, email), whoever records it.
	var again leadResult
	api.ok(t, a.Owner, leadQ, map[string]any{"slug": "alpha-recruit", "email": "signup@example.com", "campaignID": a.Campaign}).decode(t, &again)
	if again.RecordLead.ID != l.ID || again.RecordLead.AffiliateID != a.Affiliate {
		t.Errorf("second record %+v, want the first lead", again.RecordLead)
	}
	if n := must(c.Lead.Query().Where(lead.EmailEqualFold("signup@example.com")).Count(sys())).get(t); n != 1 {
		t.Errorf("%d leads for one email", n)
	}

	key := on(a, "Growth", "active")
	key.ActorType = viewer.ActorAPIKey
	var viaKey leadResult
	api.ok(t, key, leadQ, map[string]any{"slug": "alpha-partner", "email": "key@example.com"}).decode(t, &viaKey)
	if viaKey.RecordLead.Source != "Api" {
		t.Errorf("API key lead source %s", viaKey.RecordLead.Source)
	}
	var manual leadResult
	api.ok(t, a.Owner, leadQ, map[string]any{"slug": "alpha-partner", "email": "hand@example.com"}).decode(t, &manual)
	if manual.RecordLead.Source != "Manual" {
		t.Errorf("dashboard lead source %s", manual.RecordLead.Source)
	}

	e := wantError(t, api.do(t, mcp, leadQ, map[string]any{"slug": "nobody", "email": "x@example.com"}), graph.CodeNotFound, "affiliateSlug")
	if !strings.Contains(e.Message, "nobody") {
		t.Errorf("not found message %q", e.Message)
	}
	wantError(t, api.do(t, mcp, leadQ, map[string]any{"slug": "bravo-partner", "email": "x@example.com"}), graph.CodeNotFound, "affiliateSlug")
	wantError(t, api.do(t, mcp, leadQ, map[string]any{"slug": "alpha-partner", "email": "x@example.com", "campaignID": b.Campaign}), graph.CodeBadUserInput, "campaignID")
	wantError(t, api.do(t, mcp, leadQ, map[string]any{"slug": "alpha-partner", "email": "nope"}), graph.CodeBadUserInput, "email")
	if n := must(c.Lead.Query().Where(lead.EmailEQ("x@example.com")).Count(sys())).get(t); n != 0 {
		t.Errorf("refused calls recorded %d leads", n)
	}
}
