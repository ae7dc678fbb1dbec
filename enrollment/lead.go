package enrollment

import (
	"context"
	"strings"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/lead"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/viewer"
)

// LeadInput is a recordLead call.
type LeadInput struct {
	AffiliateSlug string
	Email         string
	Name          *string
	CampaignID    *string // nil: the affiliate's campaign
}

// RecordLead records a signup (an email before any payment) as a lead of
// the affiliate with the slug, so that a later sale by that email is
// credited to it even without the click cookie. The campaign is the
// affiliate's; a campaignID that names another is refused. An email that is
// already a lead of the campaign is returned as it is, whichever affiliate it
// was credited to: the first referral wins and the call is idempotent. The
// source says who recorded it: Mcp for an AI assistant, Api for an API key,
// Manual otherwise.
func (s *Service) RecordLead(ctx context.Context, c *ent.Client, in LeadInput) (*ent.Lead, error) {
	if err := rule.RequireWriter(ctx); err != nil {
		return nil, err
	}
	email, err := checkEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	name, err := optionalText("name", in.Name, maxNameLen)
	if err != nil {
		return nil, err
	}
	slug := strings.ToLower(strings.TrimSpace(in.AffiliateSlug))
	if slug == "" {
		return nil, fault.Invalid("affiliateSlug", "is required: the affiliate's referral slug, as in ?ref=<slug>")
	}
	a, err := c.Affiliate.Query().Where(affiliate.Slug(slug)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, fault.NotFound("affiliateSlug", "no affiliate has the slug %q in this organization: check it with list_affiliates", clipText(in.AffiliateSlug, 80))
	} else if err != nil {
		return nil, err
	}
	if in.CampaignID != nil && *in.CampaignID != "" && *in.CampaignID != a.CampaignID {
		return nil, fault.Invalid("campaignID", "is %s, but affiliate %s (%s) belongs to campaign %s: omit campaignID or pass %s",
			*in.CampaignID, a.Slug, a.ID, a.CampaignID, a.CampaignID)
	}
	if a.Status == affiliate.StatusBlocked || a.Status == affiliate.StatusRejected {
		return nil, fault.Conflict("affiliateSlug", "affiliate_not_active",
			"affiliate %s is %s and earns no credit for leads: approve it first", a.Slug, a.Status)
	}
	existing, err := c.Lead.Query().
		Where(lead.CampaignID(a.CampaignID), lead.EmailEqualFold(email)).
		First(ctx)
	if err == nil {
		return existing, nil
	} else if !ent.IsNotFound(err) {
		return nil, err
	}
	create := c.Lead.Create().
		SetAffiliateID(a.ID).
		SetCampaignID(a.CampaignID).
		SetEmail(email).
		SetSource(leadSource(viewer.FromContext(ctx))).
		SetOccurredAt(s.clock())
	if name != "" {
		create.SetName(name)
	}
	return create.Save(ctx)
}

// leadSource is the source of a lead recorded by v.
func leadSource(v *viewer.Viewer) lead.Source {
	if v == nil {
		return lead.SourceManual
	}
	switch v.ActorType {
	case viewer.ActorMCP:
		return lead.SourceMcp
	case viewer.ActorAPIKey:
		return lead.SourceApi
	}
	return lead.SourceManual
}
