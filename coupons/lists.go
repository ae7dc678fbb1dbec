package coupons

import (
	"context"

	"entgo.io/contrib/entgql"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/coupon"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/viewer"
)

// Page sizes of the coupon lists.
const (
	DefaultPage = 50
	MaxPage     = 200
)

// newestFirst orders coupon lists by creation, newest first.
var newestFirst = ent.WithCouponOrder(&ent.CouponOrder{Direction: entgql.OrderDirectionDesc, Field: ent.CouponOrderFieldCreatedAt})

// page checks a page size (nil: DefaultPage).
func page(first *int) (*int, error) {
	n := DefaultPage
	if first != nil {
		n = *first
	}
	if n < 1 || n > MaxPage {
		return nil, fault.Invalid("first", "must be between 1 and %d", MaxPage)
	}
	return &n, nil
}

// CampaignCoupons lists the campaign-level coupons of the campaign
// programID (revoked ones included, with revokedAt), newest first. An
// unknown campaign is NOT_FOUND rather than an empty list.
func CampaignCoupons(ctx context.Context, c *ent.Client, programID string, after *ent.Cursor, first *int) (*ent.CouponConnection, error) {
	n, err := page(first)
	if err != nil {
		return nil, err
	}
	if _, err := c.Campaign.Get(ctx, programID); err != nil {
		return nil, err
	}
	return c.Coupon.Query().Where(coupon.CampaignID(programID), coupon.AffiliateIDIsNil()).
		Paginate(ctx, after, n, nil, nil, newestFirst)
}

// AffiliateCoupons lists an affiliate's per-affiliate codes (revoked ones
// included), newest first. An unknown affiliate is NOT_FOUND.
func AffiliateCoupons(ctx context.Context, c *ent.Client, affiliateID string, after *ent.Cursor, first *int) (*ent.CouponConnection, error) {
	n, err := page(first)
	if err != nil {
		return nil, err
	}
	if _, err := c.Affiliate.Get(ctx, affiliateID); err != nil {
		return nil, err
	}
	return c.Coupon.Query().Where(coupon.AffiliateID(affiliateID)).
		Paginate(ctx, after, n, nil, nil, newestFirst)
}

// MyCoupons is what an affiliate-scoped token sees of its coupons: which of
// its campaigns let it mint codes, and the codes it holds.
type MyCoupons struct {
	// AffiliateID is the calling affiliate: the affiliateID to pass to
	// generateAffiliateCoupon.
	AffiliateID string
	// SelfMintCampaigns are the affiliate's Active campaigns with
	// coupon_self_mint on, where generateAffiliateCoupon works (an
	// affiliate promotes one campaign, so at most one).
	SelfMintCampaigns []*ent.Campaign

	client *ent.Client
	after  *ent.Cursor
	first  *int
}

// Coupons pages through the affiliate's own per-affiliate codes, newest
// first. It is resolved as its own field, so the connection loads only what
// the operation selects of it (edges, totalCount).
func (m *MyCoupons) Coupons(ctx context.Context) (*ent.CouponConnection, error) {
	return m.client.Coupon.Query().Where(coupon.AffiliateID(m.AffiliateID)).
		Paginate(ctx, m.after, m.first, nil, nil, newestFirst)
}

// errNotAffiliate refuses Mine to a brand-side viewer.
var errNotAffiliate = &fault.Error{Kind: fault.KindForbidden,
	Message: "list_my_coupons needs an affiliate-scoped token; brand tokens use list_affiliate_coupons"}

// Mine lists the calling affiliate's self-mint campaigns and codes. Only an
// affiliate-scoped viewer may call it.
func Mine(ctx context.Context, c *ent.Client, after *ent.Cursor, first *int) (*MyCoupons, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, rule.ErrNoViewer
	}
	if v.AffiliateID == "" {
		return nil, errNotAffiliate
	}
	n, err := page(first)
	if err != nil {
		return nil, err
	}
	aff, err := c.Affiliate.Get(ctx, v.AffiliateID)
	if err != nil {
		return nil, err
	}
	cmp, err := aff.QueryCampaign().Only(ctx)
	if err != nil {
		return nil, err
	}
	out := &MyCoupons{AffiliateID: aff.ID, SelfMintCampaigns: []*ent.Campaign{}, client: c, after: after, first: n}
	if cmp.CouponSelfMint && cmp.Status == campaign.StatusActive {
		out.SelfMintCampaigns = append(out.SelfMintCampaigns, cmp)
	}
	return out, nil
}
