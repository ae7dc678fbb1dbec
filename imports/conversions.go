package imports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/importjob"
	"github.com/tandemhq/tandem/ent/organization"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/money"
	"github.com/tandemhq/tandem/notify"
	"github.com/tandemhq/tandem/viewer"
)

// ImportConversionRow is one historical conversion (a sale and the
// commission it earned) from another platform, in canonical fields.
// Amounts are minor units of Currency (1999 = 19.99).
type ImportConversionRow struct {
	AffiliateEmail       *string // the affiliate, by email or slug: one is required
	AffiliateSlug        *string
	CustomerEmail        *string
	CustomerName         *string
	AmountCents          int64
	CommissionCents      int64
	Currency             string
	OccurredAt           time.Time
	Paid                 bool    // the commission was already paid out on the old platform
	Type                 *string // sale (default), subscription, renewal, lead or click
	StripeCustomerID     *string
	StripeSubscriptionID *string
	// ExternalID is the row's id on the old platform (an invoice, an order):
	// the idempotency key. Without it the key is a hash of the row.
	ExternalID *string
}

// ImportBalance sums the commissions of a set of rows, in the
// organization's home currency.
type ImportBalance struct {
	Rows            int
	AmountCents     int64
	CommissionCents int64
	Currency        string
}

// ConversionImportPreview is what importing rows would do, computed by the
// same code as the import itself, writing nothing.
type ConversionImportPreview struct {
	RowsTotal   int
	WouldImport int
	WouldSkip   int
	WouldError  int
	SkipReasons []*ImportRowReason
	Errors      []*ImportRowReason
	// PaidBalance is commission already paid on the old platform: imported
	// as settled history, never payable here.
	PaidBalance *ImportBalance
	// UnpaidBalance is commission not yet paid: it becomes payable only if
	// the import is run with confirmUnpaidPayout.
	UnpaidBalance *ImportBalance
}

// ConversionImportResult is what a conversion import did.
type ConversionImportResult struct {
	JobID     string
	RowsTotal int
	Imported  int
	Skipped   int
	Errored   int
	Reasons   []*ImportRowReason
	// UnpaidConfirmedCents is the commission of unpaid rows imported as
	// Approved (payable), with confirmUnpaidPayout.
	UnpaidConfirmedCents int64
	// UnpaidHeldCents is the commission of unpaid rows imported as Pending
	// (held, not payable), without confirmUnpaidPayout.
	UnpaidHeldCents int64
	// PaidSettledCents is the commission of paid rows imported as settled,
	// locked history.
	PaidSettledCents int64
	Currency         string
}

// ConversionsInput is a conversion import or its preview.
type ConversionsInput struct {
	CampaignID  string
	Conversions []*ImportConversionRow
	// ConfirmUnpaidPayout imports unpaid rows as Approved (payable);
	// without it they are imported as Pending and nothing becomes payable.
	ConfirmUnpaidPayout bool
	// ExcludePaid skips rows already paid on the old platform.
	ExcludePaid bool
	Now         time.Time
}

// MaxFutureSkew is how far past now a row's occurredAt may be (clock skew
// between systems); later is refused as a typo.
const MaxFutureSkew = 24 * time.Hour

// conversionTypes maps the accepted type names to conversion types.
var conversionTypes = map[string]conversion.Type{
	"sale":         conversion.TypeSale,
	"subscription": conversion.TypeSubscription,
	"renewal":      conversion.TypeRenewal,
	"lead":         conversion.TypeLead,
	"click":        conversion.TypeClick,
}

// plannedConversion is a row that will be imported.
type plannedConversion struct {
	row        int
	in         *ImportConversionRow
	affiliate  *ent.Affiliate
	key        string
	typ        conversion.Type
	currency   string
	home       []int64 // amount, commission in the home currency
	fxRate     float64
	custEmail  string
	custName   string
	stripeCust string
	stripeSub  string
}

// conversionPlan is what an import of rows will do.
type conversionPlan struct {
	t            tally
	rows         []*plannedConversion
	home         string
	paid, unpaid ImportBalance
}

// PreviewConversions dry-runs a conversion import: the same checks and
// idempotency lookups as ImportConversions, with nothing written. It is a
// read, so the import's plan gate for API keys does not apply.
func PreviewConversions(ctx context.Context, c *ent.Client, in ConversionsInput) (*ConversionImportPreview, error) {
	plan, err := planConversions(ctx, c, in)
	if err != nil {
		return nil, err
	}
	p := &ConversionImportPreview{
		RowsTotal:     len(in.Conversions),
		WouldImport:   len(plan.rows),
		WouldSkip:     plan.t.skipped,
		WouldError:    plan.t.errored,
		SkipReasons:   []*ImportRowReason{},
		Errors:        []*ImportRowReason{},
		PaidBalance:   &plan.paid,
		UnpaidBalance: &plan.unpaid,
	}
	for _, r := range plan.t.reasons {
		if r.Outcome == OutcomeErrored {
			p.Errors = append(p.Errors, r)
		} else {
			p.SkipReasons = append(p.SkipReasons, r)
		}
	}
	return p, nil
}

// ImportConversions imports historical conversions into a campaign, in the
// caller's transaction. It is idempotent: each row has a key (its
// externalId, else imp_ and a hash of campaign, affiliate, occurredAt,
// amountCents, commissionCents and customerEmail) stored as the
// conversion's external_id, and a row whose key the organization already
// has is skipped, so re-running an import never pays twice.
//
// Money safety: a paid row becomes Paid, locked, settled history that is
// never payable. An unpaid row becomes Approved (payable once the payout
// grace period has passed) only with ConfirmUnpaidPayout; otherwise it is
// Pending, held for review, and nothing becomes payable. Imported rows earn
// no sub-affiliate override: what becomes payable is exactly the previewed
// unpaid balance.
func ImportConversions(ctx context.Context, c *ent.Client, in ConversionsInput) (*ConversionImportResult, error) {
	if _, err := checkCaller(ctx); err != nil {
		return nil, err
	}
	plan, err := planConversions(ctx, c, in)
	if err != nil {
		return nil, err
	}
	res := &ConversionImportResult{
		RowsTotal: len(in.Conversions),
		Imported:  len(plan.rows),
		Skipped:   plan.t.skipped,
		Errored:   plan.t.errored,
		Reasons:   plan.t.reasons,
		Currency:  plan.home,
	}
	for _, p := range plan.rows {
		switch {
		case p.in.Paid:
			res.PaidSettledCents += p.home[1]
		case in.ConfirmUnpaidPayout:
			res.UnpaidConfirmedCents += p.home[1]
		default:
			res.UnpaidHeldCents += p.home[1]
		}
	}
	status := importjob.StatusCompleted
	if plan.t.errored == len(in.Conversions) {
		status = importjob.StatusFailed
	}
	job, err := c.ImportJob.Create().
		SetKind(importjob.KindConversions).
		SetCampaignID(in.CampaignID).
		SetStatus(status).
		SetRowsTotal(res.RowsTotal).
		SetImported(res.Imported).
		SetSkipped(res.Skipped).
		SetErrored(res.Errored).
		SetReasons(plan.t.stored()).
		SetUnpaidConfirmedCents(res.UnpaidConfirmedCents).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	res.JobID = job.ID

	now := in.Now.UTC()
	builders := make([]*ent.ConversionCreate, 0, len(plan.rows))
	for _, p := range plan.rows {
		occurred := p.in.OccurredAt.UTC()
		b := c.Conversion.Create().
			SetAffiliateID(p.affiliate.ID).
			SetCampaignID(in.CampaignID).
			SetType(p.typ).
			SetAmountCents(p.in.AmountCents).
			SetCommissionCents(p.in.CommissionCents).
			SetCurrency(p.currency).
			SetHomeAmountCents(p.home[0]).
			SetHomeCommissionCents(p.home[1]).
			SetHomeCurrency(plan.home).
			SetFxRate(p.fxRate).
			SetExternalID(p.key).
			SetImportJobID(job.ID).
			SetOccurredAt(occurred)
		switch {
		case p.in.Paid:
			// Settled on the old platform: history, never paid again.
			b.SetStatus(conversion.StatusPaid).SetLocked(true).SetApprovedAt(occurred).SetPaidAt(occurred)
		case in.ConfirmUnpaidPayout:
			b.SetStatus(conversion.StatusApproved).SetApprovedAt(now)
		default:
			b.SetStatus(conversion.StatusPending)
		}
		if p.custEmail != "" {
			b.SetCustomerEmail(p.custEmail)
		}
		if p.custName != "" {
			b.SetCustomerName(p.custName)
		}
		if p.stripeCust != "" {
			b.SetStripeCustomerID(p.stripeCust)
		}
		if p.stripeSub != "" {
			b.SetStripeSubscriptionID(p.stripeSub)
		}
		builders = append(builders, b)
	}
	if err := chunk(builders, 100, func(bs []*ent.ConversionCreate) error {
		return c.Conversion.CreateBulk(bs...).Exec(ctx)
	}); err != nil {
		return nil, err
	}
	return res, nil
}

// planConversions checks every row and works out what importing it does;
// preview and import share it, so a preview says exactly what the import
// will do (given the same data).
func planConversions(ctx context.Context, c *ent.Client, in ConversionsInput) (*conversionPlan, error) {
	if viewer.FromContext(ctx) == nil {
		return nil, rule.ErrNoViewer
	}
	if err := checkRowCount("conversions", len(in.Conversions)); err != nil {
		return nil, err
	}
	cmp, err := getCampaign(ctx, c, in.CampaignID)
	if err != nil {
		return nil, err
	}
	home, err := c.Organization.Query().Where(organization.ID(cmp.OrgID)).Select(organization.FieldHomeCurrency).String(ctx)
	if err != nil {
		return nil, err
	}
	plan := &conversionPlan{home: home}
	plan.paid.Currency, plan.unpaid.Currency = home, home

	byEmail, bySlug, err := campaignAffiliates(ctx, c, cmp.ID, in.Conversions)
	if err != nil {
		return nil, err
	}
	now := in.Now.UTC()
	var candidates []*plannedConversion
	for i, r := range in.Conversions {
		row := i + 1
		if r == nil {
			plan.t.fail(row, "", "the row is empty")
			continue
		}
		p, email, why := checkConversion(cmp, home, now, r, byEmail, bySlug)
		if why != "" {
			plan.t.fail(row, email, "%s", why)
			continue
		}
		p.row = row
		if r.Paid && in.ExcludePaid {
			plan.t.skip(row, email, "paid on the old platform, and excludePaid is set")
			continue
		}
		candidates = append(candidates, p)
	}

	keys := make([]string, 0, len(candidates))
	for _, p := range candidates {
		keys = append(keys, p.key)
	}
	existing := map[string]string{}
	if err := chunk(keys, 500, func(part []string) error {
		got, err := c.Conversion.Query().
			Where(conversion.ExternalIDIn(part...)).
			Select(conversion.FieldID, conversion.FieldExternalID).
			All(ctx)
		for _, cv := range got {
			existing[*cv.ExternalID] = cv.ID
		}
		return err
	}); err != nil {
		return nil, err
	}
	firstRow := map[string]int{}
	for _, p := range candidates {
		email := p.affiliate.Email
		if id, ok := existing[p.key]; ok {
			plan.t.skip(p.row, email, "already imported as %s (key %s): skipped, so it is never counted or paid twice", id, p.key)
			continue
		}
		if first, dup := firstRow[p.key]; dup {
			plan.t.skip(p.row, email, "duplicate of row %d in this batch (same key %s)", first, p.key)
			continue
		}
		firstRow[p.key] = p.row
		plan.rows = append(plan.rows, p)
		b := &plan.unpaid
		if p.in.Paid {
			b = &plan.paid
		}
		b.Rows++
		b.AmountCents += p.home[0]
		b.CommissionCents += p.home[1]
	}
	sort.SliceStable(plan.t.reasons, func(i, j int) bool { return plan.t.reasons[i].Row < plan.t.reasons[j].Row })
	return plan, nil
}

// checkConversion checks one row and resolves its affiliate and key. It
// returns a reason when the row cannot be imported, and the email to
// report the row under.
func checkConversion(cmp *ent.Campaign, home string, now time.Time, r *ImportConversionRow, byEmail, bySlug map[string]*ent.Affiliate) (*plannedConversion, string, string) {
	var email, slug string
	if r.AffiliateEmail != nil {
		email = strings.ToLower(strings.TrimSpace(*r.AffiliateEmail))
	}
	if r.AffiliateSlug != nil {
		slug = strings.ToLower(strings.TrimSpace(*r.AffiliateSlug))
	}
	if email == "" && slug == "" {
		return nil, "", "affiliateEmail or affiliateSlug is required: name the affiliate who earned the commission"
	}
	var aff *ent.Affiliate
	switch {
	case email != "" && slug != "":
		a, b := byEmail[email], bySlug[slug]
		if a == nil && b == nil {
			return nil, email, fmt.Sprintf("no affiliate of this campaign has email %s or slug %q: import the affiliate first (import_affiliates)", email, slug)
		}
		if a != nil && b != nil && a.ID != b.ID {
			return nil, email, fmt.Sprintf("affiliateEmail %s and affiliateSlug %q name different affiliates (%s, %s): give one", email, slug, a.ID, b.ID)
		}
		if aff = a; aff == nil {
			aff = b
		}
	case email != "":
		if aff = byEmail[email]; aff == nil {
			return nil, email, fmt.Sprintf("no affiliate of this campaign has email %s: import the affiliate first (import_affiliates)", email)
		}
	default:
		if aff = bySlug[slug]; aff == nil {
			return nil, "", fmt.Sprintf("no affiliate of this campaign has slug %q: import the affiliate first (import_affiliates)", slug)
		}
	}
	email = aff.Email

	switch {
	case r.AmountCents < 0:
		return nil, email, "amountCents must not be negative: import refunds as the original sale without the refunded commission"
	case r.CommissionCents < 0:
		return nil, email, "commissionCents must not be negative"
	case r.OccurredAt.IsZero():
		return nil, email, "occurredAt is required (ISO 8601, e.g. 2025-03-14T09:30:00Z)"
	case r.OccurredAt.After(now.Add(MaxFutureSkew)):
		return nil, email, fmt.Sprintf("occurredAt %s is in the future: historical conversions happened already", r.OccurredAt.UTC().Format(time.RFC3339))
	}
	currency, err := money.Code("currency", r.Currency)
	if err != nil {
		return nil, email, faultMessage(err)
	}
	homeAmounts, rate, err := money.ToHome("currency", currency, home, r.AmountCents, r.CommissionCents)
	if err != nil {
		return nil, email, faultMessage(err)
	}
	p := &plannedConversion{in: r, affiliate: aff, typ: conversion.TypeSale, currency: currency, home: homeAmounts, fxRate: rate}
	if r.Type != nil && strings.TrimSpace(*r.Type) != "" {
		t, ok := conversionTypes[strings.ToLower(strings.TrimSpace(*r.Type))]
		if !ok {
			return nil, email, fmt.Sprintf("type %s is not one of sale, subscription, renewal, lead or click", quote(*r.Type))
		}
		p.typ = t
	}
	if r.CustomerEmail != nil && strings.TrimSpace(*r.CustomerEmail) != "" {
		ce, ok := notify.Address(*r.CustomerEmail)
		if !ok {
			return nil, email, fmt.Sprintf("customerEmail %s is not an email address", quote(*r.CustomerEmail))
		}
		p.custEmail = ce
	}
	var why string
	for _, f := range []struct {
		name string
		in   *string
		max  int
		out  *string
	}{
		{"customerName", r.CustomerName, 200, &p.custName},
		{"stripeCustomerId", r.StripeCustomerID, 255, &p.stripeCust},
		{"stripeSubscriptionId", r.StripeSubscriptionID, 255, &p.stripeSub},
	} {
		if *f.out, why = text(f.name, f.in, f.max); why != "" {
			return nil, email, why
		}
	}
	var ext string
	if ext, why = text("externalId", r.ExternalID, 255); why != "" {
		return nil, email, why
	}
	if ext != "" {
		p.key = ext
	} else {
		p.key = rowKey(cmp.ID, aff.ID, r.OccurredAt, r.AmountCents, r.CommissionCents, p.custEmail)
	}
	return p, email, ""
}

// rowKey is the idempotency key of a row without an externalId: imp_ and
// the first 128 bits of a SHA-256 over what identifies a historical sale.
func rowKey(campaignID, affiliateID string, occurred time.Time, amount, commission int64, customerEmail string) string {
	h := sha256.New()
	for _, part := range []string{
		campaignID, affiliateID, occurred.UTC().Format(time.RFC3339Nano),
		strconv.FormatInt(amount, 10), strconv.FormatInt(commission, 10), customerEmail,
	} {
		h.Write([]byte(part))
		h.Write([]byte{0}) // a separator no part contains
	}
	return "imp_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// campaignAffiliates loads the campaign's affiliates the rows name, by
// email (lower-case) and by slug.
func campaignAffiliates(ctx context.Context, c *ent.Client, campaignID string, rows []*ImportConversionRow) (map[string]*ent.Affiliate, map[string]*ent.Affiliate, error) {
	emailSet, slugSet := map[string]bool{}, map[string]bool{}
	for _, r := range rows {
		if r == nil {
			continue
		}
		if r.AffiliateEmail != nil && strings.TrimSpace(*r.AffiliateEmail) != "" {
			emailSet[strings.ToLower(strings.TrimSpace(*r.AffiliateEmail))] = true
		}
		if r.AffiliateSlug != nil && strings.TrimSpace(*r.AffiliateSlug) != "" {
			slugSet[strings.ToLower(strings.TrimSpace(*r.AffiliateSlug))] = true
		}
	}
	byEmail, bySlug := map[string]*ent.Affiliate{}, map[string]*ent.Affiliate{}
	fields := []string{affiliate.FieldID, affiliate.FieldEmail, affiliate.FieldSlug}
	if err := chunk(setKeys(emailSet), 500, func(part []string) error {
		as, err := c.Affiliate.Query().Where(affiliate.CampaignID(campaignID), emailInFold(part)).Select(fields...).All(ctx)
		for _, a := range as {
			byEmail[strings.ToLower(a.Email)] = a
		}
		return err
	}); err != nil {
		return nil, nil, err
	}
	if err := chunk(setKeys(slugSet), 500, func(part []string) error {
		as, err := c.Affiliate.Query().Where(affiliate.CampaignID(campaignID), affiliate.SlugIn(part...)).Select(fields...).All(ctx)
		for _, a := range as {
			bySlug[a.Slug] = a
		}
		return err
	}); err != nil {
		return nil, nil, err
	}
	return byEmail, bySlug, nil
}

func setKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// faultMessage is the message of a refusal, for a row's reason.
func faultMessage(err error) string {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}
