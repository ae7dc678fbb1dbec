package enrollment

import (
	"context"
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/notify"
)

// MaxBulkInvites is the most recipients one bulkInviteAffiliates call takes.
const MaxBulkInvites = 50

// maxNameLen is the schema's limit on an affiliate's full name.
const maxNameLen = 200

// maxSlugLen is the schema's limit on a slug.
const maxSlugLen = 64

// slugShape is the shape of every slug (the ent schema's pattern).
var slugShape = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// InviteInput is one invitation (createAffiliateInvite).
type InviteInput struct {
	CampaignID            string
	Email                 string
	FullName              *string
	Slug                  *string
	PersonalNoteHTML      *string
	CustomCommissionType  *affiliate.CustomCommissionType
	CustomCommissionValue *int
	AutoApprove           *bool // nil: true
}

// AffiliateInvite is the result of createAffiliateInvite.
type AffiliateInvite struct {
	// Affiliate is the invited affiliate, new or (AlreadyInvited) existing.
	Affiliate *ent.Affiliate
	// InviteSent is true when the invitation email was queued.
	InviteSent bool
	// AlreadyInvited is true when the email was already an affiliate of the
	// campaign: nothing was created, the invitation was sent again.
	AlreadyInvited bool
}

// InviteRecipientInput is one row of a bulk invitation.
type InviteRecipientInput struct {
	Email    string
	Slug     *string
	FullName *string
}

// BulkInviteInput is a bulk invitation (bulkInviteAffiliates): Recipients
// or, the legacy shape, Emails.
type BulkInviteInput struct {
	CampaignID       string
	Recipients       []*InviteRecipientInput
	Emails           []string
	PersonalNoteHTML *string
	AutoApprove      *bool // nil: true
}

// BulkInviteResult is the result of bulkInviteAffiliates.
type BulkInviteResult struct {
	// Invited counts the affiliates created and invited.
	Invited int
	// AlreadyInvited counts the rows whose email already was an affiliate of
	// the campaign; they were sent the invitation again.
	AlreadyInvited int
	// SlugConflicts lists the rows whose requested slug could not be used;
	// they were invited with AssignedSlug instead.
	SlugConflicts []*InviteSlugConflict
	// Errors lists the rows that were not invited, and why.
	Errors []*InviteRowError
	// Affiliates are the invited affiliates (new and existing), in input order.
	Affiliates []*ent.Affiliate
}

// InviteSlugConflict is a bulk row invited under another slug than it asked for.
type InviteSlugConflict struct {
	Email         string
	RequestedSlug string
	AssignedSlug  string
	// Reason is slug_already_taken or invalid_slug.
	Reason string
}

// InviteRowError is a bulk row that was not invited.
type InviteRowError struct {
	Email  string
	Reason string
}

// Reasons a requested slug is not used.
const (
	ReasonSlugTaken   = "slug_already_taken"
	ReasonSlugInvalid = "invalid_slug"
)

// invitation is what one row needs, checked.
type invitation struct {
	email, fullName, slug string
	customType            *affiliate.CustomCommissionType
	customValue           *int64
	approve               bool
}

// Invite invites one person to a campaign by email: it creates the
// affiliate (approved, or pending when autoApprove is false) under the
// requested slug or a fresh readable one, and queues a branded invitation
// with the sanitized personal note and a dashboard link. An email that is
// already an affiliate of the campaign is invited again and returned as it
// is (AlreadyInvited), so the call is idempotent. A requested slug taken in
// the organization is refused with CONFLICT slug_already_taken.
func (s *Service) Invite(ctx context.Context, c *ent.Client, in InviteInput) (*AffiliateInvite, error) {
	if err := rule.RequireWriter(ctx); err != nil {
		return nil, err
	}
	cmp, err := invitableCampaign(ctx, c, in.CampaignID)
	if err != nil {
		return nil, err
	}
	inv := invitation{approve: in.AutoApprove == nil || *in.AutoApprove}
	if inv.email, err = checkEmail("email", in.Email); err != nil {
		return nil, err
	}
	if inv.fullName, err = optionalText("fullName", in.FullName, maxNameLen); err != nil {
		return nil, err
	}
	if in.Slug != nil {
		if inv.slug, err = checkSlug("slug", *in.Slug); err != nil {
			return nil, err
		}
	}
	if inv.customType, inv.customValue, err = checkCustomCommission(cmp, in.CustomCommissionType, in.CustomCommissionValue); err != nil {
		return nil, err
	}
	note, err := sanitizeNote(in.PersonalNoteHTML)
	if err != nil {
		return nil, err
	}
	org, err := c.Organization.Get(ctx, cmp.OrgID)
	if err != nil {
		return nil, err
	}

	existing, err := findByEmail(ctx, c, cmp.ID, inv.email)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		a, err := s.reinvite(ctx, c, org, cmp, existing, note)
		if err != nil {
			return nil, err
		}
		return &AffiliateInvite{Affiliate: a, InviteSent: true, AlreadyInvited: true}, nil
	}
	if inv.slug != "" {
		taken, err := slugTaken(ctx, c, inv.slug)
		if err != nil {
			return nil, err
		}
		if taken {
			return nil, fault.Conflict("slug", ReasonSlugTaken,
				"the slug %s is taken in this organization; choose another or omit slug for a random one", inv.slug)
		}
	} else if inv.slug, err = freshSlug(ctx, c, inv.fullName, inv.email); err != nil {
		return nil, err
	}
	a, err := s.create(ctx, c, cmp, inv)
	if err != nil {
		return nil, err
	}
	if err := s.queueInvite(ctx, c, org, cmp, a, note); err != nil {
		return nil, err
	}
	return &AffiliateInvite{Affiliate: a, InviteSent: true}, nil
}

// BulkInvite invites up to MaxBulkInvites people at once, each as Invite
// does, in c's transaction. A row's requested slug that is taken or
// malformed does not fail the row: it is invited under a fresh slug and
// listed in SlugConflicts. An invalid email, or an email whose affiliate
// was rejected or blocked, is listed in Errors. Rows repeating an email
// earlier in the batch are folded into the first.
func (s *Service) BulkInvite(ctx context.Context, c *ent.Client, in BulkInviteInput) (*BulkInviteResult, error) {
	if err := rule.RequireWriter(ctx); err != nil {
		return nil, err
	}
	rows, err := bulkRows(in)
	if err != nil {
		return nil, err
	}
	cmp, err := invitableCampaign(ctx, c, in.CampaignID)
	if err != nil {
		return nil, err
	}
	note, err := sanitizeNote(in.PersonalNoteHTML)
	if err != nil {
		return nil, err
	}
	org, err := c.Organization.Get(ctx, cmp.OrgID)
	if err != nil {
		return nil, err
	}
	approve := in.AutoApprove == nil || *in.AutoApprove
	res := &BulkInviteResult{SlugConflicts: []*InviteSlugConflict{}, Errors: []*InviteRowError{}, Affiliates: []*ent.Affiliate{}}
	seen := map[string]bool{}
	for _, row := range rows {
		email, ok := notify.Address(row.Email)
		if !ok {
			res.Errors = append(res.Errors, &InviteRowError{Email: row.Email, Reason: "not an email address; give a bare address such as ada@example.com"})
			continue
		}
		if seen[email] {
			continue
		}
		seen[email] = true
		inv := invitation{email: email, approve: approve}
		if inv.fullName, err = optionalText("fullName", row.FullName, maxNameLen); err != nil {
			res.Errors = append(res.Errors, &InviteRowError{Email: email, Reason: err.Error()})
			continue
		}

		existing, err := findByEmail(ctx, c, cmp.ID, email)
		if err != nil {
			return nil, err
		}
		if existing != nil {
			if reason := notReinvitable(existing); reason != "" {
				res.Errors = append(res.Errors, &InviteRowError{Email: email, Reason: reason})
				continue
			}
			a, err := s.reinvite(ctx, c, org, cmp, existing, note)
			if err != nil {
				return nil, err
			}
			res.AlreadyInvited++
			res.Affiliates = append(res.Affiliates, a)
			continue
		}

		var conflict *InviteSlugConflict
		if row.Slug != nil && strings.TrimSpace(*row.Slug) != "" {
			requested := strings.TrimSpace(*row.Slug)
			if slug, err := checkSlug("slug", requested); err != nil {
				conflict = &InviteSlugConflict{Email: email, RequestedSlug: requested, Reason: ReasonSlugInvalid}
			} else if taken, err := slugTaken(ctx, c, slug); err != nil {
				return nil, err
			} else if taken {
				conflict = &InviteSlugConflict{Email: email, RequestedSlug: requested, Reason: ReasonSlugTaken}
			} else {
				inv.slug = slug
			}
		}
		if inv.slug == "" {
			if inv.slug, err = freshSlug(ctx, c, inv.fullName, email); err != nil {
				return nil, err
			}
		}
		a, err := s.create(ctx, c, cmp, inv)
		if err != nil {
			return nil, err
		}
		if err := s.queueInvite(ctx, c, org, cmp, a, note); err != nil {
			return nil, err
		}
		if conflict != nil {
			conflict.AssignedSlug = a.Slug
			res.SlugConflicts = append(res.SlugConflicts, conflict)
		}
		res.Invited++
		res.Affiliates = append(res.Affiliates, a)
	}
	return res, nil
}

// bulkRows checks the shape of a bulk invitation: exactly one of recipients
// and emails, with 1 to MaxBulkInvites rows.
func bulkRows(in BulkInviteInput) ([]InviteRecipientInput, error) {
	switch {
	case in.Recipients != nil && in.Emails != nil:
		return nil, fault.Invalid("recipients", "and emails were both given: pass recipients (preferred, with per-row slug and fullName) or emails, not both")
	case in.Recipients == nil && in.Emails == nil:
		return nil, fault.Invalid("recipients", "is required: pass recipients (email, slug?, fullName? per row) or, the legacy shape, emails")
	}
	field, n := "recipients", len(in.Recipients)
	if in.Emails != nil {
		field, n = "emails", len(in.Emails)
	}
	if n < 1 || n > MaxBulkInvites {
		return nil, fault.Invalid(field, "has %d entries; it must have 1 to %d: split a longer list into batches of %d", n, MaxBulkInvites, MaxBulkInvites)
	}
	rows := make([]InviteRecipientInput, 0, n)
	for _, r := range in.Recipients {
		if r != nil {
			rows = append(rows, *r)
		}
	}
	for _, e := range in.Emails {
		rows = append(rows, InviteRecipientInput{Email: e})
	}
	return rows, nil
}

// invitableCampaign reads the campaign to invite to; an archived campaign
// takes no one.
func invitableCampaign(ctx context.Context, c *ent.Client, id string) (*ent.Campaign, error) {
	cmp, err := getCampaign(ctx, c, "campaignID", id)
	if err != nil {
		return nil, err
	}
	if cmp.Status == campaign.StatusArchived {
		return nil, fault.Conflict("campaignID", "campaign_archived",
			"campaign %s is archived and takes no new affiliates: set its status to Active with updateCampaign first, or invite to another campaign", cmp.ID)
	}
	return cmp, nil
}

// reinvite sends the invitation again to an affiliate already on the
// campaign, recording when. Its status and slug stay as they are.
func (s *Service) reinvite(ctx context.Context, c *ent.Client, org *ent.Organization, cmp *ent.Campaign, a *ent.Affiliate, note string) (*ent.Affiliate, error) {
	if reason := notReinvitable(a); reason != "" {
		return nil, fault.Conflict("email", "affiliate_"+strings.ToLower(string(a.Status)), "%s", reason)
	}
	a, err := c.Affiliate.UpdateOne(a).SetInvitedAt(s.clock()).Save(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.queueInvite(ctx, c, org, cmp, a, note); err != nil {
		return nil, err
	}
	return a, nil
}

// notReinvitable says why an existing affiliate may not be invited again,
// or "" when it may.
func notReinvitable(a *ent.Affiliate) string {
	switch a.Status {
	case affiliate.StatusRejected:
		return fmt.Sprintf("%s was rejected from this campaign (affiliate %s); approve it with approveAffiliate to let it in instead of inviting it", a.Email, a.ID)
	case affiliate.StatusBlocked:
		return fmt.Sprintf("%s is blocked on this campaign (affiliate %s) and cannot be invited again", a.Email, a.ID)
	}
	return ""
}

// create makes the invited affiliate.
func (s *Service) create(ctx context.Context, c *ent.Client, cmp *ent.Campaign, inv invitation) (*ent.Affiliate, error) {
	now := s.clock()
	create := c.Affiliate.Create().
		SetCampaignID(cmp.ID).
		SetEmail(inv.email).
		SetSlug(inv.slug).
		SetInvitedAt(now).
		SetNillableCustomCommissionType(inv.customType).
		SetNillableCustomCommissionValue(inv.customValue)
	if inv.fullName != "" {
		create.SetFullName(inv.fullName)
	}
	if inv.approve {
		create.SetStatus(affiliate.StatusApproved).SetApprovedAt(now)
	} else {
		create.SetStatus(affiliate.StatusPending)
	}
	return create.Save(ctx)
}

// findByEmail returns the campaign's affiliate with the address (in any
// case), or nil.
func findByEmail(ctx context.Context, c *ent.Client, campaignID, email string) (*ent.Affiliate, error) {
	a, err := c.Affiliate.Query().
		Where(affiliate.CampaignID(campaignID), affiliate.EmailEqualFold(email)).
		First(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return a, err
}

// checkSlug checks a requested slug, lower-case and trimmed.
func checkSlug(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fault.Invalid(field, "is empty: omit it for a random slug")
	case len(s) > maxSlugLen:
		return "", fault.Invalid(field, "is %d characters long; a slug has at most %d", len(s), maxSlugLen)
	case !slugShape.MatchString(s):
		hint := ""
		if l := strings.ToLower(s); slugShape.MatchString(l) {
			hint = fmt.Sprintf(" (did you mean %s?)", l)
		}
		return "", fault.Invalid(field, "%q is not a slug: use lowercase letters, digits and single hyphens, e.g. jane-doe%s", clipText(s, 80), hint)
	}
	return s, nil
}

// slugTaken reports whether an affiliate of the viewer's organization has slug.
func slugTaken(ctx context.Context, c *ent.Client, slug string) (bool, error) {
	return c.Affiliate.Query().Where(affiliate.Slug(slug)).Exist(ctx)
}

// freshSlug makes a readable slug that is free in the organization: a
// base from the name or the email's local part, a hyphen and four random
// characters, e.g. jane-doe-k3x9.
func freshSlug(ctx context.Context, c *ent.Client, fullName, email string) (string, error) {
	base := slugBase(fullName)
	if base == "" {
		local, _, _ := strings.Cut(email, "@")
		base = slugBase(local)
	}
	if base == "" {
		base = "partner"
	}
	for range 10 {
		slug := base + "-" + RandomSuffix(4)
		taken, err := slugTaken(ctx, c, slug)
		if err != nil {
			return "", err
		}
		if !taken {
			return slug, nil
		}
	}
	// Ten collisions on 36^4 suffixes means the base is crowded; a longer
	// suffix settles it.
	return base + "-" + RandomSuffix(10), nil
}

// slugBase turns text into slug words: ASCII letters and digits (accents
// dropped), other runs become one hyphen, at most 40 characters.
func slugBase(s string) string {
	var b strings.Builder
	hyphen := false
	// Decomposing first turns é into e and a combining accent, which is
	// dropped, so José Müller becomes jose-muller.
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		default:
			hyphen = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

const slugAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// RandomSuffix returns n random slug characters.
func RandomSuffix(n int) string {
	b := make([]byte, n)
	// rand.Text would be simpler but its alphabet has upper case; 36 does
	// not divide 256, so bytes of 252 and more are redrawn to keep it uniform.
	var r [1]byte
	for i := 0; i < n; {
		_, _ = rand.Read(r[:])
		if r[0] >= 252 {
			continue
		}
		b[i] = slugAlphabet[int(r[0])%len(slugAlphabet)]
		i++
	}
	return string(b)
}

// checkCustomCommission checks an affiliate's own rate: a percentage in
// basis points (0–10000) or a fixed amount in minor units of the campaign's
// currency. A value without a type takes the campaign's type; a type
// without a value is refused.
func checkCustomCommission(cmp *ent.Campaign, kind *affiliate.CustomCommissionType, value *int) (*affiliate.CustomCommissionType, *int64, error) {
	if kind != nil {
		if err := affiliate.CustomCommissionTypeValidator(*kind); err != nil {
			return nil, nil, fault.Invalid("customCommissionType", "must be Percentage or Fixed")
		}
	}
	if value == nil {
		if kind != nil {
			return nil, nil, fault.Invalid("customCommissionValue", "is required with customCommissionType: basis points for Percentage (2000 = 20%%), minor units for Fixed (500 = 5.00)")
		}
		return nil, nil, nil
	}
	v := int64(*value)
	if v < 0 {
		return nil, nil, fault.Invalid("customCommissionValue", "must not be negative")
	}
	percentage := cmp.CommissionType == campaign.CommissionTypePercentage
	if kind != nil {
		percentage = *kind == affiliate.CustomCommissionTypePercentage
	}
	if percentage && v > 10000 {
		return nil, nil, fault.Invalid("customCommissionValue", "is %d basis points; a percentage is at most 10000 (100%%)", v)
	}
	return kind, &v, nil
}

// sanitizeNote sanitizes an optional personal note.
func sanitizeNote(note *string) (string, error) {
	if note == nil {
		return "", nil
	}
	return notify.SanitizeNote(*note)
}
