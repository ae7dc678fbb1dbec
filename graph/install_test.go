package graph_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/install"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

const (
	qAttributionParams = `{ attributionParams { custom defaults effectiveOrder } }`
	mUpdateAttribution = `mutation($custom: String) { updateAttributionParams(custom: $custom) { custom defaults effectiveOrder } }`
	qInstallSnippet    = `query($campaignID: ID, $withPixel: Boolean) { installSnippet(campaignID: $campaignID, withPixel: $withPixel) {
		campaignID campaignName html scriptURL params pixelKey instructions } }`
	mCreatePixelKey = `mutation { createPixelKey { id pixelPublicKey } }`
)

type attributionData struct {
	Custom         []string `json:"custom"`
	Defaults       []string `json:"defaults"`
	EffectiveOrder []string `json:"effectiveOrder"`
}

func TestAttributionParamsAPI(t *testing.T) {
	db := storetest.SQLite(t)
	a := seedTenant(t, db.Client, "alpha")
	b := seedTenant(t, db.Client, "bravo")
	api := newAPI(db.Client, graph.Options{})

	var got struct{ AttributionParams attributionData }
	api.ok(t, a.Member, qAttributionParams, nil).decode(t, &got)
	if len(got.AttributionParams.Custom) != 0 || len(got.AttributionParams.Defaults) != 16 ||
		!slices.Equal(got.AttributionParams.EffectiveOrder, install.AttributionDefaults) {
		t.Fatalf("fresh organization: %+v", got.AttributionParams)
	}

	var upd struct{ UpdateAttributionParams attributionData }
	api.ok(t, a.Owner, mUpdateAttribution, map[string]any{"custom": " partner,ref , partner,"}).decode(t, &upd)
	if !slices.Equal(upd.UpdateAttributionParams.Custom, []string{"partner", "ref"}) ||
		!slices.Equal(upd.UpdateAttributionParams.EffectiveOrder[:3], []string{"partner", "ref", "via"}) ||
		len(upd.UpdateAttributionParams.EffectiveOrder) != 17 {
		t.Fatalf("update: %+v", upd.UpdateAttributionParams)
	}
	entry := db.Client.AuditLogEntry.Query().
		Where(auditlogentry.OrgID(a.OrgID), auditlogentry.Action("organization.update"), auditlogentry.EntityID(a.OrgID)).
		OnlyX(sys())
	if entry.ActorType != auditlogentry.ActorTypeUser || entry.ActorID != a.OwnerUser {
		t.Errorf("audit entry actor %s %s, want the owner", entry.ActorType, entry.ActorID)
	}
	if after, _ := entry.After["custom_attribution_params"].([]any); len(after) != 2 || after[0] != "partner" {
		t.Errorf("audit entry after = %v", entry.After)
	}

	// Tenancy: the other organization still has none.
	api.ok(t, b.Owner, qAttributionParams, nil).decode(t, &got)
	if len(got.AttributionParams.Custom) != 0 {
		t.Errorf("bravo sees alpha's params: %v", got.AttributionParams.Custom)
	}

	// Owner only: a member (and an admin) is refused, and nothing changes.
	wantError(t, api.do(t, a.Member, mUpdateAttribution, map[string]any{"custom": "x1"}), graph.CodeForbidden, "")
	admin := *a.Owner
	admin.Role = viewer.RoleAdmin
	wantError(t, api.do(t, &admin, mUpdateAttribution, map[string]any{"custom": "x1"}), graph.CodeForbidden, "")
	wantError(t, api.do(t, nil, mUpdateAttribution, map[string]any{"custom": "x1"}), graph.CodeUnauthenticated, "")

	for _, tc := range []struct{ name, custom, inMessage string }{
		{"capitals", "partner,Ref", `"Ref"`},
		{"too short", "p", `"p"`},
		{"too long", strings.Repeat("z", 33), "2 to 32"},
		{"bad character", "ref.code", `"ref.code"`},
		{"eleven entries", "p0,p1,p2,p3,p4,p5,p6,p7,p8,p9,p10", "at most 10"},
		{"257 characters", "via" + strings.Repeat(" ", 254), "at most 256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := wantError(t, api.do(t, a.Owner, mUpdateAttribution, map[string]any{"custom": tc.custom}), graph.CodeBadUserInput, "custom")
			if !strings.Contains(e.Message, tc.inMessage) {
				t.Errorf("message %q does not contain %q", e.Message, tc.inMessage)
			}
		})
	}
	api.ok(t, a.Member, qAttributionParams, nil).decode(t, &got)
	if !slices.Equal(got.AttributionParams.Custom, []string{"partner", "ref"}) {
		t.Errorf("refused updates changed the params: %v", got.AttributionParams.Custom)
	}

	// Omitted and empty both clear.
	api.ok(t, a.Owner, mUpdateAttribution, nil).decode(t, &upd)
	if len(upd.UpdateAttributionParams.Custom) != 0 {
		t.Errorf("omitted custom did not clear: %v", upd.UpdateAttributionParams.Custom)
	}
	api.ok(t, a.Owner, mUpdateAttribution, map[string]any{"custom": "p1"}).decode(t, &upd)
	api.ok(t, a.Owner, mUpdateAttribution, map[string]any{"custom": ""}).decode(t, &upd)
	if len(upd.UpdateAttributionParams.Custom) != 0 {
		t.Errorf("empty custom did not clear: %v", upd.UpdateAttributionParams.Custom)
	}
	if n := db.Client.AuditLogEntry.Query().Where(auditlogentry.OrgID(a.OrgID), auditlogentry.Action("organization.update")).CountX(sys()); n != 4 {
		t.Errorf("%d organization.update entries, want 4 (set, clear, set, clear)", n)
	}
}

type snippetData struct {
	CampaignID   string   `json:"campaignID"`
	CampaignName string   `json:"campaignName"`
	HTML         string   `json:"html"`
	ScriptURL    string   `json:"scriptURL"`
	Params       []string `json:"params"`
	PixelKey     *string  `json:"pixelKey"`
	Instructions string   `json:"instructions"`
}

func TestInstallSnippetAPI(t *testing.T) {
	db := storetest.SQLite(t)
	a := seedTenant(t, db.Client, "alpha")
	b := seedTenant(t, db.Client, "bravo")
	api := newAPI(db.Client, graph.Options{})

	// The newest active campaign is the default.
	newer := db.Client.Campaign.Create().SetOrgID(a.OrgID).SetName("Newer").SetSlug("newer").
		SetCreatedAt(time.Now().Add(time.Hour)).SaveX(sys())
	db.Client.Campaign.Create().SetOrgID(a.OrgID).SetName("Newest but paused").SetSlug("paused").
		SetStatus(campaign.StatusPaused).SetCreatedAt(time.Now().Add(2 * time.Hour)).SaveX(sys())

	var got struct{ InstallSnippet snippetData }
	api.ok(t, a.Member, qInstallSnippet, nil).decode(t, &got)
	s := got.InstallSnippet
	if s.CampaignID != newer.ID || s.CampaignName != "Newer" || s.PixelKey != nil {
		t.Fatalf("default snippet: %+v", s)
	}
	want := `<script async src="https://tandem.test/t.js" data-program="` + newer.ID + `" data-params="via,ref,fpr,`
	if !strings.Contains(s.HTML, want) || s.ScriptURL != "https://tandem.test/t.js" || len(s.Params) != 16 || s.Instructions == "" {
		t.Errorf("snippet %+v does not contain %s", s, want)
	}

	api.ok(t, a.Member, qInstallSnippet, map[string]any{"campaignID": a.Campaign}).decode(t, &got)
	if got.InstallSnippet.CampaignID != a.Campaign {
		t.Errorf("explicit campaign: got %s", got.InstallSnippet.CampaignID)
	}
	wantError(t, api.do(t, a.Owner, qInstallSnippet, map[string]any{"campaignID": b.Campaign}), graph.CodeNotFound, "")

	// The pixel: 409 until the owner creates a key.
	e := wantError(t, api.do(t, a.Owner, qInstallSnippet, map[string]any{"withPixel": true}), graph.CodeConflict, "withPixel")
	if e.Extensions["reason"] != "pixel_key_missing" || !strings.Contains(e.Message, "createPixelKey") {
		t.Errorf("409: %+v", e)
	}
	wantError(t, api.do(t, a.Member, mCreatePixelKey, nil), graph.CodeForbidden, "")
	var created struct {
		CreatePixelKey struct {
			ID             string `json:"id"`
			PixelPublicKey string `json:"pixelPublicKey"`
		}
	}
	api.ok(t, a.Owner, mCreatePixelKey, nil).decode(t, &created)
	key := created.CreatePixelKey.PixelPublicKey
	if !regexp.MustCompile(`^pk_[0-9A-Za-z]{24}$`).MatchString(key) || created.CreatePixelKey.ID != a.OrgID {
		t.Fatalf("created key %+v", created.CreatePixelKey)
	}
	if n := db.Client.AuditLogEntry.Query().Where(auditlogentry.OrgID(a.OrgID), auditlogentry.Action("organization.update")).CountX(sys()); n != 1 {
		t.Errorf("%d audit entries for the pixel key, want 1", n)
	}
	api.ok(t, a.Member, qInstallSnippet, map[string]any{"withPixel": true}).decode(t, &got)
	if got.InstallSnippet.PixelKey == nil || *got.InstallSnippet.PixelKey != key || !strings.Contains(got.InstallSnippet.HTML, `data-pixel="`+key+`"`) {
		t.Errorf("pixel snippet %+v", got.InstallSnippet)
	}
	// The other organization still has no key.
	wantError(t, api.do(t, b.Owner, qInstallSnippet, map[string]any{"withPixel": true}), graph.CodeConflict, "withPixel")
}

func TestInstallSnippetWithoutCampaign(t *testing.T) {
	db := storetest.SQLite(t)
	a := seedTenant(t, db.Client, "alpha")
	db.Client.Campaign.UpdateOneID(a.Campaign).SetStatus(campaign.StatusArchived).ExecX(sys())
	api := newAPI(db.Client, graph.Options{})
	e := wantError(t, api.do(t, a.Owner, qInstallSnippet, nil), graph.CodeBadUserInput, "campaignID")
	if !strings.Contains(e.Message, "create a campaign") {
		t.Errorf("message %q does not say to create a campaign", e.Message)
	}
	wantError(t, api.do(t, a.Owner, qInstallSnippet, map[string]any{"campaignID": a.Campaign}), graph.CodeBadUserInput, "campaignID")
}
