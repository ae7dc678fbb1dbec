package partners

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tandemhq/tandem/account"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/logintoken"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/store"
	"github.com/tandemhq/tandem/subscriptions"
	"github.com/tandemhq/tandem/viewer"
)

// Bounds of one guest-ingest call.
const (
	MaxIngestSubscriptions = 100
	MaxAmount              = subscriptions.MaxAmount
	maxNameLen             = 200
	maxBillDateText        = 64
)

// GuestIngestInput is a partner's push (GraphQL GuestIngestInput; the REST
// shim maps the seed's snake_case body onto it). A tier, if the partner sends
// one, has no field here: the server sets it.
type GuestIngestInput struct {
	Email         string
	Source        *string
	Subscriptions []*subscriptions.IngestInput
}

// Guest-ingest statuses (the seed's two responses).
const (
	StatusCreated  = "created"
	StatusExisting = "existing"
)

// GuestIngestPayload is the seed's response. Token and MCPURL are set only
// for a new account: an email that has an account never gets a token
// (anti-takeover).
type GuestIngestPayload struct {
	Status       string
	Imported     int
	TotalMonthly float64 // dollars, 2 decimals
	Token        *string
	MCPURL       *string
}

// Options are what GuestIngest needs besides the database.
type Options struct {
	PublicURL string           // base of the claim link and mcp_url
	Now       func() time.Time // nil: time.Now
	Accounts  *account.Service // issues the emailed links; required
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

func (o Options) publicURL() string {
	if o.PublicURL == "" {
		return account.DefaultPublicURL
	}
	return strings.TrimRight(o.PublicURL, "/")
}

// Refusals of guest-ingest callers.
var (
	// ErrPartnerOnly refuses guestIngest to anything but the guest-ingest shim.
	ErrPartnerOnly = &fault.Error{Kind: fault.KindForbidden,
		Message: "guestIngest is the partner provisioning operation: call POST /api/guest-ingest"}
	// ErrWrongSource refuses a body whose source is not the key's: one
	// partner's key never speaks for another source. It names neither.
	ErrWrongSource = &fault.Error{Kind: fault.KindUnauthenticated, Reason: "partner_source_mismatch", Field: "source",
		Message: "this x-partner-key authenticates only its own source, and the body's source is a different one: send the source your key was issued for, or omit source"}
)

// fieldNames spell a subscription's fields as the caller sent them.
type fieldNames struct{ billDate, trialEndDate, cardNetwork string }

var (
	graphqlNames = fieldNames{"billDate", "trialEndDate", "cardNetwork"}
	wireNames    = fieldNames{"bill_date", "trial_end_date", "card_network"}
)

// ValidateGuestIngest checks a push the way the seed defines it, naming the
// offending field as the caller spelled it (wire: the REST body's
// snake_case, e.g. subscriptions[2].trial_end_date; otherwise GraphQL's).
func ValidateGuestIngest(in GuestIngestInput, wire bool) error {
	_, err := validateGuestIngest(in, wire)
	return err
}

// validateGuestIngest is ValidateGuestIngest that also returns the
// normalized email.
func validateGuestIngest(in GuestIngestInput, wire bool) (string, error) {
	names := graphqlNames
	if wire {
		names = wireNames
	}
	email, err := checkEmail("email", in.Email)
	if err != nil {
		return "", err
	}
	if in.Source != nil && *in.Source != "" {
		if err := CheckSource("source", *in.Source); err != nil {
			return "", err
		}
	}
	switch n := len(in.Subscriptions); {
	case n == 0:
		return "", fault.Invalid("subscriptions", "is empty: send 1 to %d subscriptions, each with at least name and amount", MaxIngestSubscriptions)
	case n > MaxIngestSubscriptions:
		return "", fault.Invalid("subscriptions", "has %d items: send at most %d per call and split the rest into further calls", n, MaxIngestSubscriptions)
	}
	for i, s := range in.Subscriptions {
		at := func(f string) string { return fmt.Sprintf("subscriptions[%d].%s", i, f) }
		if s == nil {
			return "", fault.Invalid(fmt.Sprintf("subscriptions[%d]", i), "is null: send an object with at least name and amount")
		}
		name := strings.TrimSpace(s.Name)
		switch {
		case name == "":
			return "", fault.Invalid(at("name"), "is required: the service's name, e.g. Netflix")
		case !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameLen:
			return "", fault.Invalid(at("name"), "must be 1–%d characters of text", maxNameLen)
		}
		if math.IsNaN(s.Amount) || math.IsInf(s.Amount, 0) || s.Amount < 0 || s.Amount > MaxAmount {
			return "", fault.Invalid(at("amount"), "must be the monthly amount in dollars, a number from 0 to %d, e.g. 15.99", MaxAmount)
		}
		if b := s.BillDate; b != nil {
			switch {
			case b.Text != "" && utf8.RuneCountInString(b.Text) > maxBillDateText:
				return "", fault.Invalid(at(names.billDate), "text is too long: at most %d characters", maxBillDateText)
			case b.Text == "" && (b.Day < 1 || b.Day > 31):
				return "", fault.Invalid(at(names.billDate), "must be a whole day of the month from 1 to 31, or text such as \"every other Friday\"")
			}
		}
		if d := s.TrialEndDate; d != nil {
			if t, err := time.Parse(time.DateOnly, *d); err != nil || t.Format(time.DateOnly) != *d {
				return "", fault.Invalid(at(names.trialEndDate), "must be a real date written YYYY-MM-DD, e.g. 2026-07-15")
			}
		}
		if c := s.CardNetwork; c != nil {
			if err := subscription.CardNetworkValidator(*c); err != nil {
				return "", fault.Invalid(at(names.cardNetwork), "must be one of visa, mastercard, amex or discover; omit it unless the source knows it")
			}
		}
	}
	return email, nil
}

// GuestIngest provisions a person from a partner's push, all in one
// transaction: an email without an account gets a shadow account (tier
// free, email unverified), a claim email labelled with the partner's source
// and a 30-day clerk_reg_ token; an email with an account (shadow or not)
// only gets the subscriptions, and never a token. The subscriptions are
// imported as that person, through the same ingest as every other surface,
// once each: of several with the same normalized name the last one counts.
//
// Only a keyed partner pushing to the unclaimed shadow account it created
// updates what is stored; every other push into an existing account only
// adds (subscriptions.IngestOptions.AddOnly): a partner never rewrites a
// person's own data, and a keyless caller nobody's. When an unclaimed
// shadow account hears from a source other than its creator, the tokens
// issued so far are revoked: whoever created it first (a keyless caller
// typing in someone's email, say) must not keep reading what the person's
// real partner sends.
//
// The caller is the partner viewer the shim set up: with a key,
// PartnerSource is its source and the body's source must match it (or be
// omitted); without one, the body's source is a label the server stores as
// "guest:<source>" but never shows as a sender.
func GuestIngest(ctx context.Context, client *ent.Client, in GuestIngestInput, opts Options) (*GuestIngestPayload, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.ActorType != viewer.ActorPartner {
		return nil, ErrPartnerOnly
	}
	email, err := validateGuestIngest(in, false)
	if err != nil {
		return nil, err
	}
	body := ""
	if in.Source != nil {
		body = *in.Source
	}
	keyed := v.PartnerSource != ""
	var sourceLabel, storedSource, provisionedBy string
	if keyed {
		if body != "" && body != v.PartnerSource {
			return nil, ErrWrongSource
		}
		sourceLabel, storedSource, provisionedBy = v.PartnerSource, storedLabel("partner:"+v.PartnerSource), v.ActorID
	} else {
		storedSource = account.GuestSource
		if body != "" {
			storedSource = storedLabel(account.GuestSource + ":" + body)
		}
		provisionedBy = storedSource
	}
	subs := dedupe(in.Subscriptions)
	now := opts.now()
	out := &GuestIngestPayload{Status: StatusExisting, Imported: len(subs), TotalMonthly: requestTotal(subs)}
	err = store.InTx(ctx, client, func(ctx context.Context, c *ent.Client) error {
		sys := rule.AsSystem(ctx)
		u, err := c.User.Query().Where(user.Email(email)).Only(sys)
		created := ent.IsNotFound(err)
		if created {
			// The system creates the person: a partner cannot choose the tier.
			u, err = c.User.Create().SetEmail(email).SetSubscriptionsTier(user.SubscriptionsTierFree).
				SetProvisionedBySourceID(provisionedBy).Save(sys)
			if ent.IsConstraintError(err) {
				return fault.Conflict("email", "concurrent_ingest", "another call created this person at the same moment: retry, and it will import into that account")
			}
		}
		if err != nil {
			return err
		}
		ownShadow := account.IsUnclaimedShadow(u) && *u.ProvisionedBySourceID == provisionedBy
		if !created && account.IsUnclaimedShadow(u) && !ownShadow {
			if _, err := account.RevokeUserTokens(ctx, c, u.ID, now); err != nil {
				return err
			}
		}
		ingestOpts := subscriptions.IngestOptions{AddOnly: !created && !(keyed && ownShadow)}
		person := viewer.NewContext(ctx, &viewer.Viewer{
			UserID: u.ID, ActorType: viewer.ActorPerson, ActorID: u.ID,
			EmailVerified: u.EmailVerifiedAt != nil, Admin: false, RequestID: v.RequestID,
		})
		for _, s := range subs {
			if _, err := subscriptions.IngestWith(person, c, *s.in, storedSource, ingestOpts); err != nil {
				return atIndex(err, s.index)
			}
		}
		if !created {
			return nil
		}
		out.Status = StatusCreated
		if err := queueClaimEmail(ctx, c, opts, u, sourceLabel, len(subs)); err != nil {
			return err
		}
		tokenName := "Provisioned by " + storedSource
		tok, err := mintUserToken(ctx, c, u.ID, tokenName, &provisionedBy, now)
		if err != nil {
			return err
		}
		mcpURL := opts.publicURL() + MCPPath + "?token=" + url.QueryEscape(tok.Token)
		out.Token, out.MCPURL = &tok.Token, &mcpURL
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// indexed is one subscription of a push and where the caller sent it.
type indexed struct {
	index int
	in    *subscriptions.IngestInput
}

// dedupe keeps one subscription per normalized name (as the ingest matches
// them), the last one sent, in the place the first one had. Its index stays
// the last one's, so an error names the item whose values were used.
func dedupe(subs []*subscriptions.IngestInput) []indexed {
	out := make([]indexed, 0, len(subs))
	at := map[string]int{}
	for i, s := range subs {
		key := subscriptions.DedupeKey(s.Name)
		if j, ok := at[key]; ok {
			out[j] = indexed{i, s}
			continue
		}
		at[key] = len(out)
		out = append(out, indexed{i, s})
	}
	return out
}

// requestTotal is what this push reports as monthly: the sum of its own
// amounts, in dollars to the cent. It never reads what the account held
// before, which would tell any caller who knows an email what that person
// spends.
func requestTotal(subs []indexed) float64 {
	var cents int64
	for _, s := range subs {
		cents += subscriptions.Cents(s.in.Amount) // rounded exactly as ingest stores it
	}
	return float64(cents) / 100
}

// storedLabel fits a source label into the 64 characters a subscription's
// source holds (a slug is ASCII, so bytes are characters).
func storedLabel(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// atIndex names the subscription an ingest refused, e.g. subscriptions[2].amount.
func atIndex(err error, i int) error {
	var f *fault.Error
	if !errors.As(err, &f) {
		return err
	}
	field := fmt.Sprintf("subscriptions[%d]", i)
	if f.Field != "" {
		field += "." + f.Field
	}
	return f.Renamed(field)
}

// queueClaimEmail writes the claim link and its email in the caller's
// transaction: the email leaves if and only if the account was created.
func queueClaimEmail(ctx context.Context, c *ent.Client, opts Options, u *ent.User, sourceLabel string, n int) error {
	token, err := opts.Accounts.IssueLink(ctx, u.ID, logintoken.PurposeVerifyEmail, ClaimLinkTTL)
	if err != nil {
		return err
	}
	link := opts.publicURL() + ClaimPath + "?t=" + url.QueryEscape(token)
	msg := claimEmail(sourceLabel, u.Email, link, n)
	return c.OutboxMessage.Create().SetKind(MessageClaim).SetToAddress(u.Email).SetSubject(msg.subject).
		SetTextBody(msg.text).SetNextAttemptAt(opts.now()).Exec(rule.AsSystem(ctx))
}
