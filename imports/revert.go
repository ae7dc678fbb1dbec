package imports

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/affiliatetoken"
	"github.com/tandemhq/tandem/ent/click"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/coupon"
	"github.com/tandemhq/tandem/ent/importjob"
	"github.com/tandemhq/tandem/ent/lead"
	"github.com/tandemhq/tandem/ent/mcptoken"
	"github.com/tandemhq/tandem/ent/payoutlineitem"
	"github.com/tandemhq/tandem/fault"
)

// ImportReversal is what reverting an import did.
type ImportReversal struct {
	Job *ent.ImportJob
	// Removed counts the affiliates or conversions deleted.
	Removed int
	// Kept lists the rows the import created that were kept, and why.
	Kept []*ImportKept
	// AlreadyReverted is true when the job had been reverted before: this
	// call changed nothing.
	AlreadyReverted bool
}

// ImportKept is one row an import created that its reversal kept.
type ImportKept struct {
	ID     string
	Reason string
}

// Revert undoes an import in the caller's transaction. For an affiliate
// import it deletes the affiliates it created that nothing refers to yet
// (with their dashboard links); an affiliate with conversions, clicks,
// leads, coupons, payouts, recruits or an MCP token is kept and listed. For
// a conversion import it deletes the conversions it created that are not
// in a payout; those in one are kept and listed. The job becomes Reverted.
// Reverting a reverted job changes nothing. Only owners and admins may
// (the privacy rules refuse other roles' writes).
func Revert(ctx context.Context, c *ent.Client, jobID string, now time.Time) (*ImportReversal, error) {
	job, err := c.ImportJob.Get(ctx, jobID)
	if ent.IsNotFound(err) {
		return nil, fault.NotFound("jobID", "no import job %s in this organization", jobID)
	}
	if err != nil {
		return nil, err
	}
	if job.Status == importjob.StatusReverted {
		return &ImportReversal{Job: job, Kept: []*ImportKept{}, AlreadyReverted: true}, nil
	}
	var rev *ImportReversal
	switch job.Kind {
	case importjob.KindAffiliates:
		rev, err = revertAffiliates(ctx, c, job.ID)
	default:
		rev, err = revertConversions(ctx, c, job.ID)
	}
	if err != nil {
		return nil, err
	}
	if rev.Job, err = c.ImportJob.UpdateOne(job).
		SetStatus(importjob.StatusReverted).
		SetRevertedAt(now.UTC()).
		Save(ctx); err != nil {
		return nil, err
	}
	return rev, nil
}

func revertAffiliates(ctx context.Context, c *ent.Client, jobID string) (*ImportReversal, error) {
	ids, err := c.Affiliate.Query().Where(affiliate.ImportJobID(jobID)).IDs(ctx)
	if err != nil {
		return nil, err
	}
	inUse := map[string][]string{} // affiliate → what refers to it
	uses := []struct {
		what  string
		query func([]string) ([]string, error)
	}{
		{"conversions", func(part []string) ([]string, error) {
			return c.Conversion.Query().Where(conversion.AffiliateIDIn(part...)).Unique(true).Select(conversion.FieldAffiliateID).Strings(ctx)
		}},
		{"sub-affiliate overrides", func(part []string) ([]string, error) {
			return c.Conversion.Query().Where(conversion.OverrideAffiliateIDIn(part...)).Unique(true).Select(conversion.FieldOverrideAffiliateID).Strings(ctx)
		}},
		{"clicks", func(part []string) ([]string, error) {
			return c.Click.Query().Where(click.AffiliateIDIn(part...)).Unique(true).Select(click.FieldAffiliateID).Strings(ctx)
		}},
		{"leads", func(part []string) ([]string, error) {
			return c.Lead.Query().Where(lead.AffiliateIDIn(part...)).Unique(true).Select(lead.FieldAffiliateID).Strings(ctx)
		}},
		{"coupons", func(part []string) ([]string, error) {
			return c.Coupon.Query().Where(coupon.AffiliateIDIn(part...)).Unique(true).Select(coupon.FieldAffiliateID).Strings(ctx)
		}},
		{"payouts", func(part []string) ([]string, error) {
			return c.PayoutLineItem.Query().Where(payoutlineitem.AffiliateIDIn(part...)).Unique(true).Select(payoutlineitem.FieldAffiliateID).Strings(ctx)
		}},
		{"recruited affiliates", func(part []string) ([]string, error) {
			return c.Affiliate.Query().Where(affiliate.RecruitedByIDIn(part...)).Unique(true).Select(affiliate.FieldRecruitedByID).Strings(ctx)
		}},
		// Deleting an affiliate would clear an affiliate-scoped MCP token's
		// affiliate (the foreign key is ON DELETE SET NULL), turning it into
		// an organization-wide token: such an affiliate is always kept.
		{"an MCP token (revoke it first)", func(part []string) ([]string, error) {
			return c.MCPToken.Query().Where(mcptoken.AffiliateIDIn(part...)).Unique(true).Select(mcptoken.FieldAffiliateID).Strings(ctx)
		}},
	}
	for _, u := range uses {
		if err := chunk(ids, 500, func(part []string) error {
			got, err := u.query(part)
			for _, id := range got {
				inUse[id] = append(inUse[id], u.what)
			}
			return err
		}); err != nil {
			return nil, err
		}
	}
	rev := &ImportReversal{Kept: []*ImportKept{}}
	var removable []string
	for _, id := range ids {
		if whats, ok := inUse[id]; ok {
			rev.Kept = append(rev.Kept, &ImportKept{ID: id, Reason: "kept: has " + strings.Join(whats, ", ")})
			continue
		}
		removable = append(removable, id)
	}
	sort.Slice(rev.Kept, func(i, j int) bool { return rev.Kept[i].ID < rev.Kept[j].ID })
	if err := chunk(removable, 500, func(part []string) error {
		// Their dashboard links (welcome and embed tokens) go with them.
		if _, err := c.AffiliateToken.Delete().Where(affiliatetoken.AffiliateIDIn(part...)).Exec(ctx); err != nil {
			return err
		}
		n, err := c.Affiliate.Delete().Where(affiliate.IDIn(part...)).Exec(ctx)
		rev.Removed += n
		return err
	}); err != nil {
		return nil, err
	}
	return rev, nil
}

func revertConversions(ctx context.Context, c *ent.Client, jobID string) (*ImportReversal, error) {
	cs, err := c.Conversion.Query().
		Where(conversion.ImportJobID(jobID)).
		Select(conversion.FieldID, conversion.FieldPayoutLineItemID).
		All(ctx)
	if err != nil {
		return nil, err
	}
	rev := &ImportReversal{Kept: []*ImportKept{}}
	var removable []string
	for _, cv := range cs {
		if cv.PayoutLineItemID != nil {
			rev.Kept = append(rev.Kept, &ImportKept{ID: cv.ID, Reason: "kept: paid in payout line item " + *cv.PayoutLineItemID})
			continue
		}
		removable = append(removable, cv.ID)
	}
	if err := chunk(removable, 500, func(part []string) error {
		n, err := c.Conversion.Delete().Where(conversion.IDIn(part...)).Exec(ctx)
		rev.Removed += n
		return err
	}); err != nil {
		return nil, err
	}
	return rev, nil
}
