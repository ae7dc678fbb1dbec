package install_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/install"
	"github.com/tandemhq/tandem/provision"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

func installSys() context.Context { return rule.AsSystem(context.Background()) }

// installFixture is one organization on a fresh database.
type installFixture struct {
	t      *testing.T
	client *ent.Client
	org    *ent.Organization
	owner  string
}

func newInstallFixture(t *testing.T) *installFixture {
	t.Helper()
	client := storetest.SQLite(t).Client
	return &installFixture{t: t, client: client}
}

// newOrg adds an organization to the fixture's database; the first one is f.org.
func (f *installFixture) newOrg(slug string) *ent.Organization {
	f.t.Helper()
	res, err := provision.CreateOrg(installSys(), f.client, provision.OrgInput{Name: slug, Slug: slug, OwnerEmail: "owner@" + slug + ".test", Plan: "growth"})
	if err != nil {
		f.t.Fatal(err)
	}
	org := f.client.Organization.GetX(installSys(), res.OrgID)
	if f.org == nil {
		f.org, f.owner = org, res.OwnerUserID
	}
	return org
}

func (f *installFixture) ownerCtx() context.Context {
	if f.org == nil {
		f.newOrg("acme")
	}
	return viewer.NewContext(context.Background(), &viewer.Viewer{
		OrgID: f.org.ID, UserID: f.owner, Role: viewer.RoleOwner, ActorType: viewer.ActorUser, ActorID: f.owner,
	})
}

// campaign creates a campaign in org; edit adjusts it before saving.
func (f *installFixture) campaign(org *ent.Organization, slug string, edit func(*ent.CampaignCreate)) *ent.Campaign {
	f.t.Helper()
	c := f.client.Campaign.Create().SetOrgID(org.ID).SetName(slug + " program").SetSlug(slug)
	if edit != nil {
		edit(c)
	}
	return c.SaveX(installSys())
}

// affiliate creates an approved affiliate of cmp; edit adjusts it before saving.
func (f *installFixture) affiliate(cmp *ent.Campaign, slug string, edit func(*ent.AffiliateCreate)) *ent.Affiliate {
	f.t.Helper()
	c := f.client.Affiliate.Create().SetOrgID(cmp.OrgID).SetCampaignID(cmp.ID).
		SetEmail(slug + "@partners.test").SetSlug(slug).SetStatus(affiliate.StatusApproved)
	if edit != nil {
		edit(c)
	}
	return c.SaveX(installSys())
}

func TestPixelKeyNew(t *testing.T) {
	shape := regexp.MustCompile(`^pk_[0-9A-Za-z]{24}$`)
	seen := map[string]bool{}
	for range 50 {
		k, err := install.PixelKeyNew()
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(k) {
			t.Fatalf("key %q does not look like pk_ + 24 base62 characters", k)
		}
		if seen[k] {
			t.Fatalf("key %q came twice", k)
		}
		seen[k] = true
	}
}

func TestPixelKeyCreateRotates(t *testing.T) {
	f := newInstallFixture(t)
	ctx := f.ownerCtx()
	first, err := install.PixelKeyCreate(ctx, f.client, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := install.PixelKeyCreate(ctx, f.client, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if first.PixelPublicKey == nil || second.PixelPublicKey == nil || *first.PixelPublicKey == *second.PixelPublicKey {
		t.Fatalf("keys %v then %v: want two different keys", first.PixelPublicKey, second.PixelPublicKey)
	}
	if got := f.client.Organization.GetX(installSys(), f.org.ID).PixelPublicKey; *got != *second.PixelPublicKey {
		t.Errorf("stored key %s, want the newest %s", *got, *second.PixelPublicKey)
	}
}

func TestSnippetFor(t *testing.T) {
	f := newInstallFixture(t)
	ctx := f.ownerCtx()
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

	// No campaign yet: the error says to create one.
	_, err := install.SnippetFor(ctx, f.client, f.org.ID, "https://t.example", nil, false)
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Kind != fault.KindInvalid || fe.Field != "campaignID" || !strings.Contains(fe.Message, "create a campaign") {
		t.Fatalf("no campaign: got %v, want an invalid-input fault on campaignID saying to create a campaign", err)
	}

	older := f.campaign(f.org, "older", func(c *ent.CampaignCreate) { c.SetCreatedAt(base) })
	newest := f.campaign(f.org, "newest", func(c *ent.CampaignCreate) { c.SetCreatedAt(base.Add(time.Hour)).SetCookieWindowDays(45) })
	f.campaign(f.org, "paused", func(c *ent.CampaignCreate) { c.SetCreatedAt(base.Add(2 * time.Hour)).SetStatus(campaign.StatusPaused) })
	archived := f.campaign(f.org, "archived", func(c *ent.CampaignCreate) {
		c.SetCreatedAt(base.Add(3 * time.Hour)).SetStatus(campaign.StatusArchived)
	})
	other := f.newOrg("globex")
	foreign := f.campaign(other, "foreign", nil)

	custom := "partner"
	if _, err := install.AttributionUpdate(ctx, f.client, f.org.ID, &custom); err != nil {
		t.Fatal(err)
	}

	s, err := install.SnippetFor(ctx, f.client, f.org.ID, "https://t.example/", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if s.CampaignID != newest.ID || s.CampaignName != newest.Name {
		t.Errorf("default campaign %s (%s), want the newest active %s", s.CampaignID, s.CampaignName, newest.ID)
	}
	wantTag := `<script async src="https://t.example/t.js" data-program="` + newest.ID + `" data-params="partner,via,ref,fpr,`
	if !strings.Contains(s.HTML, wantTag) {
		t.Errorf("html\n%s\ndoes not contain\n%s", s.HTML, wantTag)
	}
	if strings.Contains(s.HTML, "data-pixel") || strings.Contains(s.HTML, "tandem.conversion") || s.PixelKey != nil {
		t.Errorf("click-only snippet carries the pixel: %s", s.HTML)
	}
	if s.ScriptURL != "https://t.example/t.js" || s.Params[0] != "partner" || len(s.Params) != 17 {
		t.Errorf("scriptURL %q, params %v", s.ScriptURL, s.Params)
	}
	if !strings.Contains(s.Instructions, "45-day") || !strings.Contains(s.Instructions, "?partner=") {
		t.Errorf("instructions %q do not mention the cookie window and the first param", s.Instructions)
	}

	// An explicit campaign; an archived one is refused; another org's is not found.
	if s, err := install.SnippetFor(ctx, f.client, f.org.ID, "https://t.example", &older.ID, false); err != nil || s.CampaignID != older.ID {
		t.Errorf("explicit campaign: %v, %v", s, err)
	}
	if _, err := install.SnippetFor(ctx, f.client, f.org.ID, "https://t.example", &archived.ID, false); !errors.As(err, &fe) || fe.Field != "campaignID" {
		t.Errorf("archived campaign: got %v, want an invalid-input fault on campaignID", err)
	}
	if _, err := install.SnippetFor(ctx, f.client, f.org.ID, "https://t.example", &foreign.ID, false); !ent.IsNotFound(err) {
		t.Errorf("another organization's campaign: got %v, want not found", err)
	}

	// The pixel: refused until the organization has a key.
	_, err = install.SnippetFor(ctx, f.client, f.org.ID, "https://t.example", nil, true)
	if !errors.As(err, &fe) || fe.Kind != fault.KindConflict || fe.Reason != "pixel_key_missing" || fe.Field != "withPixel" {
		t.Fatalf("withPixel without a key: got %v, want a pixel_key_missing conflict", err)
	}
	if !strings.Contains(fe.Message, "createPixelKey") || !strings.Contains(fe.Message, "Settings") {
		t.Errorf("message %q does not say how to create a key", fe.Message)
	}
	org, err := install.PixelKeyCreate(ctx, f.client, f.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	s, err = install.SnippetFor(ctx, f.client, f.org.ID, "https://t.example", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	key := *org.PixelPublicKey
	if s.PixelKey == nil || *s.PixelKey != key || !strings.Contains(s.HTML, `data-pixel="`+key+`"></script>`) {
		t.Errorf("pixel snippet does not embed the key %s:\n%s", key, s.HTML)
	}
	// The example conversion call is inside an HTML comment, so pasting the
	// snippet never records the example order.
	open, closeAt := strings.Index(s.HTML, "<!--\n"), strings.LastIndex(s.HTML, "-->")
	call := strings.Index(s.HTML, "window.tandem.conversion(")
	if call < 0 || open < 0 || call < open || call > closeAt {
		t.Errorf("the example conversion call is not commented out:\n%s", s.HTML)
	}
	if !strings.Contains(s.Instructions, "window.tandem.conversion") {
		t.Errorf("pixel instructions %q do not mention the conversion call", s.Instructions)
	}
}
