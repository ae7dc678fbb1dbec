package mcpadapter_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/store/storetest"
)

// programFixture is one organization's program, with a row for every tool
// to act on.
type programFixture struct {
	campaign, pending, toReject, approved, recruit string
	campaignCoupon, affiliateCoupon, payout        string
	otherOrgAffiliate                              string
}

func seedProgram(t *testing.T, st *stack) programFixture {
	t.Helper()
	ctx := rule.AsSystem(context.Background())
	c := st.db.Client
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	cmp, err := c.Campaign.Create().SetOrgID(st.orgID).SetName("Partners").SetSlug("partners").SetCouponSelfMint(true).Save(ctx)
	must(err)
	aff := func(slug string, status affiliate.Status) *ent.Affiliate {
		a, err := c.Affiliate.Create().SetOrgID(st.orgID).SetCampaignID(cmp.ID).SetEmail(slug + "@example.com").
			SetFullName(strings.ToUpper(slug[:1]) + slug[1:]).SetSlug(slug).SetStatus(status).Save(ctx)
		must(err)
		return a
	}
	pending, toReject, approved := aff("pending", affiliate.StatusPending), aff("rejectme", affiliate.StatusPending), aff("ann", affiliate.StatusApproved)
	recruit, err := c.Affiliate.Create().SetOrgID(st.orgID).SetCampaignID(cmp.ID).SetEmail("rob@example.com").
		SetSlug("rob").SetStatus(affiliate.StatusApproved).SetRecruitedByID(approved.ID).Save(ctx)
	must(err)
	old := time.Now().AddDate(0, 0, -60)
	_, err = c.Conversion.Create().SetOrgID(st.orgID).SetAffiliateID(approved.ID).SetCampaignID(cmp.ID).
		SetStatus("Approved").SetAmountCents(10000).SetCurrency("USD").SetCommissionCents(2000).
		SetHomeAmountCents(10000).SetHomeCommissionCents(2000).SetHomeCurrency("USD").SetOccurredAt(old).Save(ctx)
	must(err)
	cc, err := c.Coupon.Create().SetOrgID(st.orgID).SetCampaignID(cmp.ID).SetCode("PARTNERS10").SetName("10% off").SetPercentOff(10).Save(ctx)
	must(err)
	ac, err := c.Coupon.Create().SetOrgID(st.orgID).SetCampaignID(cmp.ID).SetAffiliateID(approved.ID).SetCode("ANN10").SetName("Ann 10%").SetPercentOff(10).Save(ctx)
	must(err)
	batch, err := c.PayoutBatch.Create().SetOrgID(st.orgID).SetCurrency("USD").SetTotalCents(2000).SetLineCount(1).Save(ctx)
	must(err)
	_, err = c.PayoutLineItem.Create().SetOrgID(st.orgID).SetBatchID(batch.ID).SetAffiliateID(approved.ID).SetAmountCents(2000).SetCurrency("USD").Save(ctx)
	must(err)
	other, err := c.Organization.Create().SetName("Other").SetSlug("other").Save(ctx)
	must(err)
	otherCmp, err := c.Campaign.Create().SetOrgID(other.ID).SetName("Theirs").SetSlug("theirs").Save(ctx)
	must(err)
	otherAff, err := c.Affiliate.Create().SetOrgID(other.ID).SetCampaignID(otherCmp.ID).SetEmail("x@other.test").SetSlug("x").Save(ctx)
	must(err)
	return programFixture{campaign: cmp.ID, pending: pending.ID, toReject: toReject.ID, approved: approved.ID, recruit: recruit.ID,
		campaignCoupon: cc.ID, affiliateCoupon: ac.ID, payout: batch.ID, otherOrgAffiliate: otherAff.ID}
}

// Every tool, through the official client against a running server: once
// with valid arguments (writes are checked for their effect and their audit
// row) and once with invalid ones (a tool error that names the problem).
func TestEveryToolWithValidAndInvalidArguments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := newStack(t, b, "pro")
		f := seedProgram(t, st)
		s := st.connect(t, st.token)
		ctx := rule.AsSystem(context.Background())
		c := st.db.Client
		affStatus := func(id string) affiliate.Status {
			a, err := c.Affiliate.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return a.Status
		}
		conversionRow := map[string]any{"affiliateEmail": "ann@example.com", "amountCents": 5000, "commissionCents": 1000,
			"currency": "USD", "occurredAt": time.Now().AddDate(0, -3, 0).UTC().Format(time.RFC3339), "paid": true, "externalId": "legacy-1"}

		cases := []struct {
			tool    string
			valid   map[string]any
			check   func(t *testing.T, out map[string]any)
			invalid map[string]any
			want    string // in the invalid call's error text
		}{
			{"get_org_profile", nil, has("slug"), map[string]any{"x": 1}, "unknown argument x"},
			{"get_billing_state", nil, has("planTier"), map[string]any{"x": 1}, "unknown argument x"},
			{"get_home_currency", nil, has("homeCurrency"), map[string]any{"x": 1}, "unknown argument x"},
			{"list_affiliates", map[string]any{"campaignId": f.campaign}, items(4), map[string]any{"take": 0}, "take must be at least 1"},
			{"get_affiliate", map[string]any{"id": f.approved}, has("totals"), map[string]any{"id": f.otherOrgAffiliate}, "not_found"},
			{"list_conversions", map[string]any{"status": "Approved"}, items(1), map[string]any{"status": "Sold"}, "status must be one of"},
			{"list_campaigns", map[string]any{"take": 10}, items(1), map[string]any{"take": 201}, "take must be at most 200"},
			{"get_campaign", map[string]any{"id": f.campaign}, has("affiliateCount"), map[string]any{}, "missing required argument id"},
			{"list_payouts", map[string]any{"affiliateId": f.approved}, items(1), map[string]any{"status": "Done"}, "status must be one of"},
			{"get_payout", map[string]any{"id": f.payout}, has("lineItems"), map[string]any{"id": f.campaign}, "not_found"},
			{"dashboard_summary", map[string]any{"range": "90d"}, has("revenueCents"), map[string]any{"range": "2y"}, "range must be one of"},
			{"dashboard_timeseries", map[string]any{"metric": "revenue", "range": "7d"}, has("points"), map[string]any{"metric": "profit"}, "metric must be one of"},
			{"list_audit_log", map[string]any{"pageSize": 10}, has("total"), map[string]any{"pageSize": 101}, "pageSize must be at most 100"},
			{"get_program_sub_affiliate_config", map[string]any{"programId": f.campaign}, has("enabled"), map[string]any{}, "missing required argument programId"},
			{"list_affiliate_sub_affiliates", map[string]any{"affiliateId": f.approved}, items(1), map[string]any{"affiliateId": f.otherOrgAffiliate}, "not_found"},
			{"list_campaign_coupons", map[string]any{"programId": f.campaign}, items(1), map[string]any{"programId": f.campaign, "take": -1}, "take must be at least 1"},
			{"list_affiliate_coupons", map[string]any{"affiliateId": f.approved}, items(1), map[string]any{}, "missing required argument affiliateId"},
			{"list_install_platforms", nil, items(29), map[string]any{"x": 1}, "unknown argument x"},
			{"get_install_recipe", map[string]any{"platformKey": "shopify"}, has("steps"), map[string]any{"platformKey": ""}, "platformKey must be at least 1"},
			{"get_attribution_params", nil, has("effectiveOrder"), map[string]any{"x": 1}, "unknown argument x"},
			{"get_install_snippet", map[string]any{"campaignId": f.campaign}, has("html"), map[string]any{"withPixel": true}, "pixel_key_missing"},
			{"preview_conversion_import", map[string]any{"campaignId": f.campaign, "conversions": []any{conversionRow}}, has("wouldImport"),
				map[string]any{"campaignId": f.campaign, "conversions": []any{}}, "conversions must have at least 1"},
			{"approve_affiliate", map[string]any{"id": f.pending}, func(t *testing.T, out map[string]any) {
				if affStatus(f.pending) != affiliate.StatusApproved {
					t.Error("not approved in the database")
				}
			}, map[string]any{"id": f.otherOrgAffiliate}, "not_found"},
			{"reject_affiliate", map[string]any{"id": f.toReject, "reason": "not a fit"}, func(t *testing.T, out map[string]any) {
				if affStatus(f.toReject) != affiliate.StatusRejected {
					t.Error("not rejected in the database")
				}
			}, map[string]any{"id": f.pending, "reason": strings.Repeat("x", 1001)}, "reason must be at most 1000"},
			{"preview_payout", map[string]any{"campaignId": f.campaign}, has("totalCents"), map[string]any{"since": "yesterday"}, "since"},
			{"mint_embed_token", map[string]any{"affiliateId": f.approved, "allowedOrigins": "https://shop.example"}, has("embedURL"),
				map[string]any{"affiliateId": f.approved, "expiresInHours": 721}, "expiresInHours must be at most 720"},
			{"set_home_currency", map[string]any{"homeCurrency": "EUR"}, func(t *testing.T, out map[string]any) {
				if out["homeCurrency"] != "EUR" {
					t.Errorf("homeCurrency = %v", out["homeCurrency"])
				}
			}, map[string]any{"homeCurrency": "XYZ"}, "homeCurrency"},
			{"set_program_sub_affiliate_config", map[string]any{"programId": f.campaign, "enabled": true, "percent": 10}, has("enabled"),
				map[string]any{"programId": f.campaign, "enabled": true, "percent": 101}, "percent must be at most 100"},
			{"create_campaign_coupon", map[string]any{"programId": f.campaign, "name": "Spring", "percentOff": 15}, has("code"),
				map[string]any{"programId": f.campaign, "name": "Bad", "percentOff": 0}, "percentOff"},
			{"generate_affiliate_coupon", map[string]any{"affiliateId": f.approved, "programId": f.campaign, "vanity": "ANNSPRING"}, has("code"),
				map[string]any{"affiliateId": f.otherOrgAffiliate, "programId": f.campaign}, "not_found"},
			{"revoke_affiliate_coupon", map[string]any{"couponId": f.affiliateCoupon}, has("revokedAt"), map[string]any{"couponId": f.campaignCoupon}, "campaign"},
			{"create_campaign", map[string]any{"name": "Launch", "slug": "launch", "defaultCommissionType": "Percentage", "defaultCommissionValue": 25},
				has("id"), map[string]any{"name": "Launch 2", "slug": "launch", "defaultCommissionModel": "Cpc", "defaultCommissionType": "Percentage"}, "defaultCommissionType"},
			{"create_affiliate_invite", map[string]any{"campaignId": f.campaign, "email": "new@example.com", "slug": "newbie"}, has("affiliate"),
				map[string]any{"campaignId": f.campaign, "email": "other@example.com", "slug": "ann"}, "slug_already_taken"},
			{"bulk_invite_affiliates", map[string]any{"campaignId": f.campaign, "emails": []any{"b1@example.com", "b2@example.com"}}, has("invited"),
				map[string]any{"campaignId": f.campaign, "emails": make([]any, 51)}, "emails must have at most 50"},
			{"update_attribution_params", map[string]any{"custom": "partner,promo"}, has("custom"), map[string]any{"custom": "Bad Param"}, "custom"},
			{"import_affiliates", map[string]any{"campaignId": f.campaign, "affiliates": []any{map[string]any{"email": "imp@example.com"}}}, has("imported"),
				map[string]any{"campaignId": f.campaign, "affiliates": []any{}}, "affiliates must have at least 1"},
			{"import_conversions", map[string]any{"campaignId": f.campaign, "conversions": []any{conversionRow}}, has("imported"),
				map[string]any{"campaignId": f.campaign, "conversions": []any{}}, "conversions must have at least 1"},
			{"record_lead", map[string]any{"affiliateSlug": "ann", "email": "lead@example.com"}, has("id"),
				map[string]any{"affiliateSlug": "nobody", "email": "lead2@example.com"}, "not_found"},
		}
		seen := map[string]bool{}
		for _, tc := range cases {
			seen[tc.tool] = true
			t.Run(tc.tool, func(t *testing.T) {
				before := mcpWrites(t, st)
				out, errText := call(t, s, tc.tool, tc.valid)
				if errText != "" {
					t.Fatalf("valid call failed: %s", errText)
				}
				tc.check(t, out)
				if !slices.Contains(seedReads, tc.tool) && mcpWrites(t, st) <= before {
					t.Errorf("no audit row by the MCP token after the write")
				}
				_, errText = call(t, s, tc.tool, tc.invalid)
				if errText == "" || !strings.Contains(errText, tc.want) {
					t.Errorf("invalid call: got %q, want an error containing %q", errText, tc.want)
				}
			})
		}
		for _, name := range append(append([]string{}, seedReads...), seedWrites...) {
			if !seen[name] && name != "list_my_coupons" {
				t.Errorf("%s is not exercised", name)
			}
		}
	})
}

// list_my_coupons acts for one affiliate, with an affiliate-scoped token.
func TestListMyCouponsWithAnAffiliateToken(t *testing.T) {
	st := newStack(t, storetest.Backends(t)[0], "pro")
	f := seedProgram(t, st)
	res, err := account.New(st.db.Client, account.Options{}).CreateMCPTokenAsSystem(context.Background(), st.orgID,
		account.CreateMCPTokenInput{Name: "Ann's assistant", AffiliateID: &f.approved})
	if err != nil {
		t.Fatal(err)
	}
	s := st.connect(t, res.Token)
	out, errText := call(t, s, "list_my_coupons", map[string]any{"take": 10})
	if errText != "" {
		t.Fatal(errText)
	}
	if out["affiliateID"] != f.approved {
		t.Errorf("list_my_coupons = %v", out)
	}
	// It is shown, and may call, the affiliate tools only.
	tools, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	if want := []string{"generate_affiliate_coupon", "list_my_coupons"}; !slices.Equal(slices.Sorted(slices.Values(names)), want) {
		t.Errorf("an affiliate token sees %v, want %v", names, want)
	}
	coupon, errText := call(t, s, "generate_affiliate_coupon", map[string]any{"affiliateId": f.approved, "programId": f.campaign})
	if errText != "" || coupon["affiliateID"] != f.approved {
		t.Errorf("affiliate minting its own coupon: %v %s", coupon, errText)
	}
	if _, errText := call(t, s, "list_affiliates", nil); !strings.Contains(errText, "only the affiliate tools") {
		t.Errorf("an affiliate token listing the brand's affiliates: %q", errText)
	}
	// A brand token is told to use list_affiliate_coupons.
	if _, errText := call(t, st.connect(t, st.token), "list_my_coupons", nil); !strings.Contains(errText, "affiliate") {
		t.Errorf("brand token on list_my_coupons: %q", errText)
	}
}

// mcpWrites counts the audit rows MCP tokens wrote that are not read records.
func mcpWrites(t *testing.T, st *stack) int {
	t.Helper()
	n, err := st.db.Client.AuditLogEntry.Query().
		Where(auditlogentry.ActorTypeEQ(auditlogentry.ActorTypeMcp), auditlogentry.Not(auditlogentry.ActionHasPrefix("query.")),
			auditlogentry.TokenIDNEQ("")).
		Count(rule.AsSystem(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func has(key string) func(t *testing.T, out map[string]any) {
	return func(t *testing.T, out map[string]any) {
		t.Helper()
		if _, ok := out[key]; !ok {
			t.Errorf("result has no %s: %v", key, out)
		}
	}
}

func items(n int) func(t *testing.T, out map[string]any) {
	return func(t *testing.T, out map[string]any) {
		t.Helper()
		list, ok := out["items"].([]any)
		if !ok || len(list) != n {
			t.Errorf("want %d items, got %v", n, out)
		}
	}
}
