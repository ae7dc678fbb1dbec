package enrollment

import (
	"context"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
)

// MaxReasonLen is the most characters a rejection reason may have.
const MaxReasonLen = 1000

// Approve approves a pending (or earlier rejected) affiliate, records when,
// and queues the welcome email with a dashboard link, in c's transaction.
// Approving an approved affiliate changes nothing and sends nothing, so
// calling it twice has the effect of calling it once. A blocked affiliate
// is refused.
func (s *Service) Approve(ctx context.Context, c *ent.Client, id string) (*ent.Affiliate, error) {
	if err := rule.RequireWriter(ctx); err != nil {
		return nil, err
	}
	a, err := getAffiliate(ctx, c, "id", id)
	if err != nil {
		return nil, err
	}
	switch a.Status {
	case affiliate.StatusApproved:
		return a, nil
	case affiliate.StatusBlocked:
		return nil, fault.Conflict("id", "affiliate_blocked",
			"affiliate %s is blocked, and a blocked affiliate cannot be approved: unblock it first by setting its status to Pending with updateAffiliate, then approve it", a.ID)
	}
	a, err = c.Affiliate.UpdateOne(a).
		SetStatus(affiliate.StatusApproved).
		SetApprovedAt(s.clock()).
		ClearRejectionReason().
		Save(ctx)
	if err != nil {
		return nil, err
	}
	org, cmp, err := orgAndCampaign(ctx, c, a)
	if err != nil {
		return nil, err
	}
	if err := s.queueApproved(ctx, c, org, cmp, a); err != nil {
		return nil, err
	}
	return a, nil
}

// Reject rejects a pending application, keeps the reason (at most
// MaxReasonLen characters; blank means none) and, when notify is set, emails
// the applicant, quoting the reason. Rejecting a rejected affiliate changes
// nothing and sends nothing. An approved or blocked affiliate is refused:
// only an application can be rejected.
func (s *Service) Reject(ctx context.Context, c *ent.Client, id string, reason *string, notify bool) (*ent.Affiliate, error) {
	if err := rule.RequireWriter(ctx); err != nil {
		return nil, err
	}
	why, err := optionalText("reason", reason, MaxReasonLen)
	if err != nil {
		return nil, err
	}
	a, err := getAffiliate(ctx, c, "id", id)
	if err != nil {
		return nil, err
	}
	switch a.Status {
	case affiliate.StatusRejected:
		return a, nil
	case affiliate.StatusApproved:
		return nil, fault.Conflict("id", "affiliate_already_approved",
			"affiliate %s is already approved, and only a pending application can be rejected: to stop an approved affiliate earning, set its status to Blocked with updateAffiliate", a.ID)
	case affiliate.StatusBlocked:
		return nil, fault.Conflict("id", "affiliate_blocked",
			"affiliate %s is blocked, and only a pending application can be rejected; it already earns nothing", a.ID)
	}
	upd := c.Affiliate.UpdateOne(a).SetStatus(affiliate.StatusRejected)
	if why != "" {
		upd.SetRejectionReason(why)
	} else {
		upd.ClearRejectionReason()
	}
	if a, err = upd.Save(ctx); err != nil {
		return nil, err
	}
	if notify {
		org, cmp, err := orgAndCampaign(ctx, c, a)
		if err != nil {
			return nil, err
		}
		if err := queueRejected(ctx, c, org, cmp, a, why); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// orgAndCampaign reads the organization and campaign an email about a names.
func orgAndCampaign(ctx context.Context, c *ent.Client, a *ent.Affiliate) (*ent.Organization, *ent.Campaign, error) {
	org, err := c.Organization.Get(ctx, a.OrgID)
	if err != nil {
		return nil, nil, err
	}
	cmp, err := c.Campaign.Get(ctx, a.CampaignID)
	if err != nil {
		return nil, nil, err
	}
	return org, cmp, nil
}
