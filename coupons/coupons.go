package coupons

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/coupon"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/money"
)

// Bounds of a coupon's inputs, shared with the tool files' directives.
const (
	MinPercentOff     = 0.01
	MaxPercentOff     = 100
	MaxDurationMonths = 36
	MaxNameLen        = 120
	MaxMetadataKeys   = 20
	MaxMetadataKeyLen = 40
	MaxMetadataValue  = 500
	// MaxAmountOffCents bounds a fixed discount at one million units of
	// its currency: anything larger is a typo in minor units.
	MaxAmountOffCents = 100_000_000
)

// codePattern is the shape of every coupon code (the ent schema enforces it
// too): what checkout forms and processors accept without escaping.
var codePattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{1,63}$`)

// codeRule says the code pattern in words, for error messages.
const codeRule = "must be 2–64 characters: letters A–Z, digits, _ and -, starting with a letter or digit (e.g. SUMMER20)"

// CampaignCouponInput is what createCampaignCoupon takes. Exactly one of
// PercentOff and AmountOffCents is set; AmountOffCents needs Currency.
type CampaignCouponInput struct {
	ProgramID        string
	Name             string
	PercentOff       *float64
	AmountOffCents   *int // minor units
	Currency         *string
	Duration         *coupon.Duration
	DurationInMonths *int
	MaxRedemptions   *int
	ExpiresAt        *time.Time
	Metadata         map[string]any
	Code             *string // empty: generated from the name
}

// terms are a coupon's discount: what a per-affiliate code copies from its
// campaign's coupon.
type terms struct {
	percentOff       *float64
	amountOffCents   *int64
	currency         string
	duration         coupon.Duration
	durationInMonths *int
}

// String says the discount as a person reads it: "25% off, repeating for 3
// months", "1500 EUR (minor units) off, once".
func (t terms) String() string {
	var s string
	switch {
	case t.percentOff != nil:
		s = strconv.FormatFloat(*t.percentOff, 'f', -1, 64) + "% off"
	case t.amountOffCents != nil:
		s = fmt.Sprintf("%d %s (minor units) off", *t.amountOffCents, t.currency)
	default:
		s = "no discount"
	}
	if t.duration == coupon.DurationRepeating && t.durationInMonths != nil {
		return fmt.Sprintf("%s, repeating for %d months", s, *t.durationInMonths)
	}
	return s + ", " + string(t.duration)
}

// CreateCampaignCoupon creates a campaign-level coupon (no affiliate): a
// code that credits sales to the campaign and is the discount every
// per-affiliate code of the campaign copies. now is the caller's clock.
func CreateCampaignCoupon(ctx context.Context, c *ent.Client, now time.Time, in CampaignCouponInput) (*ent.Coupon, error) {
	return createCampaignCoupon(ctx, c, now, in, "programID")
}

// createCampaignCoupon is CreateCampaignCoupon naming the campaign's input
// programField in refusals: programID, or createCoupon's campaignID.
func createCampaignCoupon(ctx context.Context, c *ent.Client, now time.Time, in CampaignCouponInput, programField string) (*ent.Coupon, error) {
	name, err := checkName(in.Name)
	if err != nil {
		return nil, err
	}
	t, err := checkTerms(in)
	if err != nil {
		return nil, err
	}
	if err := checkOwnLimits(now, in.MaxRedemptions, in.ExpiresAt); err != nil {
		return nil, err
	}
	if err := checkMetadata(in.Metadata); err != nil {
		return nil, err
	}
	var code string
	if in.Code != nil && strings.TrimSpace(*in.Code) != "" {
		if code, err = NormalizeCode("code", *in.Code); err != nil {
			return nil, err
		}
	}
	cmp, err := getProgram(ctx, c, programField, in.ProgramID)
	if err != nil {
		return nil, err
	}
	if cmp.Status == campaign.StatusArchived {
		return nil, fault.Invalid(programField, "program %s is archived: set its status to Active or Paused before adding coupons", cmp.ID)
	}
	if code == "" {
		if code, err = freeCode(ctx, c, name); err != nil {
			return nil, err
		}
	} else if err := codeFree(ctx, c, "code", code); err != nil {
		return nil, err
	}
	create := c.Coupon.Create().
		SetCampaignID(cmp.ID).
		SetCode(code).
		SetName(name).
		SetNillableMaxRedemptions(in.MaxRedemptions).
		SetNillableExpiresAt(utc(in.ExpiresAt))
	if len(in.Metadata) > 0 {
		create.SetMetadata(in.Metadata)
	}
	return saveCode(ctx, setTerms(create, t), "code", code)
}

// getProgram reads the campaign id, named field in the caller's input.
func getProgram(ctx context.Context, c *ent.Client, field, id string) (*ent.Campaign, error) {
	cmp, err := c.Campaign.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, fault.NotFound(field, "%s %s names no program of this organization", field, id)
	}
	return cmp, err
}

// checkOwnLimits checks the limits a coupon has of its own, whatever kind
// it is: a redemption cap of at least 1 and an expiry in the future.
func checkOwnLimits(now time.Time, maxRedemptions *int, expiresAt *time.Time) error {
	if maxRedemptions != nil && *maxRedemptions < 1 {
		return fault.Invalid("maxRedemptions", "must be at least 1; omit it for unlimited redemptions")
	}
	if expiresAt != nil && !expiresAt.After(now) {
		return fault.Invalid("expiresAt", "must be in the future (it is %s, now is %s)",
			expiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkName trims a coupon's name and bounds it.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fault.Invalid("name", "must not be empty: say what the discount is, e.g. \"Spring launch 20%%\"")
	case utf8.RuneCountInString(name) > MaxNameLen:
		return "", fault.Invalid("name", "must be at most %d characters", MaxNameLen)
	}
	return name, nil
}

// checkTerms validates a discount: exactly one of a percentage and an
// amount, a currency with (and only with) an amount, and a month count with
// (and only with) a repeating duration.
func checkTerms(in CampaignCouponInput) (terms, error) {
	t := terms{duration: coupon.DurationOnce}
	switch {
	case in.PercentOff != nil && in.AmountOffCents != nil:
		return t, fault.Invalid("amountOffCents", "cannot be combined with percentOff: a coupon takes either a percentage or a fixed amount off, not both")
	case in.PercentOff == nil && in.AmountOffCents == nil:
		return t, fault.Invalid("percentOff", "or amountOffCents is required: give a percentage (0.01–100) or a fixed amount in minor units with its currency")
	case in.PercentOff != nil:
		p := *in.PercentOff
		if math.IsNaN(p) || p < MinPercentOff || p > MaxPercentOff {
			return t, fault.Invalid("percentOff", "must be between 0.01 and 100 (a percentage, 15 = 15%% off)")
		}
		if math.Abs(p*100-math.Round(p*100)) > 1e-6 {
			return t, fault.Invalid("percentOff", "must have at most two decimals, e.g. 12.5")
		}
		p = math.Round(p*100) / 100
		t.percentOff = &p
		if in.Currency != nil && strings.TrimSpace(*in.Currency) != "" {
			return t, fault.Invalid("currency", "applies only to amountOffCents: omit it for a percentage coupon")
		}
	default:
		a := int64(*in.AmountOffCents)
		if a < 1 || a > MaxAmountOffCents {
			return t, fault.Invalid("amountOffCents", "must be between 1 and %d, in minor units of the currency (1500 = 15.00)", MaxAmountOffCents)
		}
		t.amountOffCents = &a
		if in.Currency == nil || strings.TrimSpace(*in.Currency) == "" {
			return t, fault.Invalid("currency", "is required with amountOffCents: the ISO 4217 code of the amount, e.g. USD")
		}
		cur, err := money.Code("currency", *in.Currency)
		if err != nil {
			return t, err
		}
		t.currency = cur
	}
	if in.Duration != nil {
		if err := coupon.DurationValidator(*in.Duration); err != nil {
			return t, fault.Invalid("duration", "must be once, repeating or forever")
		}
		t.duration = *in.Duration
	}
	switch {
	case t.duration == coupon.DurationRepeating && in.DurationInMonths == nil:
		return t, fault.Invalid("durationInMonths", "is required when duration is repeating: how many months (1–36) the discount lasts")
	case t.duration != coupon.DurationRepeating && in.DurationInMonths != nil:
		return t, fault.Invalid("durationInMonths", "applies only when duration is repeating: omit it, or set duration to repeating")
	case in.DurationInMonths != nil && (*in.DurationInMonths < 1 || *in.DurationInMonths > MaxDurationMonths):
		return t, fault.Invalid("durationInMonths", "must be between 1 and %d", MaxDurationMonths)
	}
	t.durationInMonths = in.DurationInMonths
	return t, nil
}

// checkMetadata bounds a coupon's metadata as payment processors do: at
// most 20 keys of at most 40 characters, each value a string of at most 500.
func checkMetadata(md map[string]any) error {
	if len(md) > MaxMetadataKeys {
		return fault.Invalid("metadata", "has %d keys; at most %d are allowed", len(md), MaxMetadataKeys)
	}
	for k, v := range md {
		if strings.TrimSpace(k) == "" || utf8.RuneCountInString(k) > MaxMetadataKeyLen {
			return fault.Invalid("metadata", "keys must be 1–%d characters (%q is not)", MaxMetadataKeyLen, k)
		}
		s, ok := v.(string)
		if !ok {
			return fault.Invalid("metadata", "value of %q must be a string (send numbers and flags as text)", k)
		}
		if utf8.RuneCountInString(s) > MaxMetadataValue {
			return fault.Invalid("metadata", "value of %q is longer than %d characters", k, MaxMetadataValue)
		}
	}
	return nil
}

// NormalizeCode uppercases a code a person typed, turns inner spaces into
// hyphens, and checks it against the code pattern; field names the input.
func NormalizeCode(field, raw string) (string, error) {
	code := strings.Join(strings.Fields(strings.ToUpper(raw)), "-")
	if !codePattern.MatchString(code) {
		return "", fault.Invalid(field, "%s; %q is not", codeRule, raw)
	}
	return code, nil
}

// codeFree refuses a code another coupon of the organization has, revoked
// or not (a revoked code stays reserved, so an old link never credits
// someone new).
func codeFree(ctx context.Context, c *ent.Client, field, code string) error {
	taken, err := c.Coupon.Query().Where(coupon.Code(code)).Exist(ctx)
	if err != nil {
		return err
	}
	if taken {
		return codeTaken(field, code)
	}
	return nil
}

func codeTaken(field, code string) error {
	return fault.Conflict(field, "code_already_taken",
		"coupon code %s is already used in this organization (revoked codes stay reserved): choose another %s", code, field)
}

// saveCode saves a new coupon, reporting a code taken by a concurrent
// create as the same conflict a taken code gets.
func saveCode(ctx context.Context, create *ent.CouponCreate, field, code string) (*ent.Coupon, error) {
	cp, err := create.Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, codeTaken(field, code)
	}
	return cp, err
}

func setTerms(create *ent.CouponCreate, t terms) *ent.CouponCreate {
	create.SetNillablePercentOff(t.percentOff).
		SetNillableAmountOffCents(t.amountOffCents).
		SetDuration(t.duration).
		SetNillableDurationInMonths(t.durationInMonths)
	if t.currency != "" {
		create.SetCurrency(t.currency)
	}
	return create
}

// codeAlphabet leaves out characters people confuse when reading a code
// aloud or off a screen (0/O, 1/I).
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// codeStem turns a name or slug into the readable start of a generated
// code: uppercase letters and digits, other runs as one hyphen, at most 20
// characters.
func codeStem(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToUpper(s) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			if b.Len() >= 20 {
				break
			}
			continue
		}
		dash = true
	}
	stem := strings.TrimRight(b.String(), "-")
	if stem == "" {
		stem = "COUPON"
	}
	return stem
}

// freeCode generates an unused code from stem plus a random suffix.
func freeCode(ctx context.Context, c *ent.Client, stem string) (string, error) {
	stem = codeStem(stem)
	for range 8 {
		suffix := make([]byte, 5)
		rand.Read(suffix) // never fails (crypto/rand)
		for i, b := range suffix {
			suffix[i] = codeAlphabet[int(b)%len(codeAlphabet)]
		}
		code := stem + "-" + string(suffix)
		taken, err := c.Coupon.Query().Where(coupon.Code(code)).Exist(ctx)
		if err != nil {
			return "", err
		}
		if !taken {
			return code, nil
		}
	}
	return "", fmt.Errorf("coupons: no free code for stem %q after 8 tries", stem)
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
