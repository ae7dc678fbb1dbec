package imports

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/tandemhq/tandem/enrollment"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/importjob"
	"github.com/tandemhq/tandem/ent/predicate"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/gate"
	"github.com/tandemhq/tandem/notify"
)

// NotifyTier is the plan (with an active paid subscription) that may email
// imported affiliates: a bulk email costs real money to send.
const NotifyTier = "Growth"

// KindImportNotice is the outbox kind of the email an imported affiliate gets.
const KindImportNotice = "affiliate_import"

// ImportAffiliateRow is one affiliate of a roster being imported, in
// canonical fields any platform's export maps to.
type ImportAffiliateRow struct {
	Email       string
	FullName    *string
	Status      *string // pending, approved (the default), rejected or blocked, any case
	PaypalEmail *string
	Slug        *string // the referral slug to keep; a fresh one when it is taken
}

// AffiliatesInput is an affiliate import.
type AffiliatesInput struct {
	CampaignID string
	Affiliates []*ImportAffiliateRow
	// IncludeStatuses imports only rows with these statuses; empty: all.
	IncludeStatuses []string
	// NotifyAffiliates emails each imported pending or approved affiliate
	// a branded notice with a link to their dashboard.
	NotifyAffiliates        bool
	NotificationMessageHTML *string
	Now                     time.Time
	PublicURL               string // base of the dashboard links in the emails
}

// statuses maps the accepted status names to affiliate statuses.
var statuses = map[string]affiliate.Status{
	"pending":  affiliate.StatusPending,
	"approved": affiliate.StatusApproved,
	"rejected": affiliate.StatusRejected,
	"blocked":  affiliate.StatusBlocked,
}

const statusList = "pending, approved, rejected or blocked"

func parseStatus(s string) (affiliate.Status, bool) {
	st, ok := statuses[strings.ToLower(strings.TrimSpace(s))]
	return st, ok
}

// plannedAffiliate is a row that will be imported.
type plannedAffiliate struct {
	row                     int
	email, fullName, paypal string
	wantSlug, slug          string
	slugRefused             string // why wantSlug was not used
	status                  affiliate.Status
}

// Affiliates imports a roster into a campaign, in the caller's transaction
// (c is the transaction's client). Rows are deduplicated by email within
// the campaign and within the batch, so running the same import twice
// imports nothing the second time. A requested slug that is malformed or
// taken is replaced by a fresh random one and the row still imports, with
// a note in its reasons: the affiliate is not lost over a slug.
//
// One ImportJob records the counts and reasons, and every imported
// affiliate points at it, so revertImport can undo the import.
func Affiliates(ctx context.Context, c *ent.Client, in AffiliatesInput) (*ImportResult, error) {
	v, err := checkCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkRowCount("affiliates", len(in.Affiliates)); err != nil {
		return nil, err
	}
	var note string
	if in.NotifyAffiliates {
		if err := gate.RequirePaidPlan(v, NotifyTier); err != nil {
			return nil, err
		}
		if in.NotificationMessageHTML != nil {
			if note, err = sanitizeNote(*in.NotificationMessageHTML); err != nil {
				return nil, err
			}
		}
	} else if in.NotificationMessageHTML != nil && strings.TrimSpace(*in.NotificationMessageHTML) != "" {
		return nil, fault.Invalid("notificationMessageHtml", "is sent only when notifyAffiliates is true: set notifyAffiliates, or leave the message out")
	}
	include := map[affiliate.Status]bool{}
	for _, s := range in.IncludeStatuses {
		st, ok := parseStatus(s)
		if !ok {
			return nil, fault.Invalid("includeStatuses", "may hold only %s, not %s", statusList, quote(s))
		}
		include[st] = true
	}
	cmp, err := getCampaign(ctx, c, in.CampaignID)
	if err != nil {
		return nil, err
	}

	var t tally
	planned, err := planAffiliates(ctx, c, cmp, in.Affiliates, include, &t)
	if err != nil {
		return nil, err
	}
	if err := assignSlugs(ctx, c, planned, &t); err != nil {
		return nil, err
	}
	t.imported = len(planned)
	sort.SliceStable(t.reasons, func(i, j int) bool { return t.reasons[i].Row < t.reasons[j].Row })

	status := importjob.StatusCompleted
	if t.errored == len(in.Affiliates) {
		status = importjob.StatusFailed
	}
	job, err := c.ImportJob.Create().
		SetKind(importjob.KindAffiliates).
		SetCampaignID(cmp.ID).
		SetStatus(status).
		SetRowsTotal(len(in.Affiliates)).
		SetImported(t.imported).
		SetSkipped(t.skipped).
		SetErrored(t.errored).
		SetReasons(t.stored()).
		Save(ctx)
	if err != nil {
		return nil, err
	}

	now := in.Now.UTC()
	builders := make([]*ent.AffiliateCreate, 0, len(planned))
	for _, p := range planned {
		b := c.Affiliate.Create().
			SetCampaignID(cmp.ID).
			SetEmail(p.email).
			SetSlug(p.slug).
			SetStatus(p.status).
			SetImportJobID(job.ID)
		if p.fullName != "" {
			b.SetFullName(p.fullName)
		}
		if p.paypal != "" {
			b.SetPaypalEmail(p.paypal)
		}
		if p.status == affiliate.StatusApproved {
			b.SetApprovedAt(now)
		}
		if in.NotifyAffiliates && notified(p.status) {
			b.SetInvitedAt(now)
		}
		builders = append(builders, b)
	}
	var created []*ent.Affiliate
	if err := chunk(builders, 100, func(bs []*ent.AffiliateCreate) error {
		as, err := c.Affiliate.CreateBulk(bs...).Save(ctx)
		created = append(created, as...)
		return err
	}); err != nil {
		return nil, err
	}

	if in.NotifyAffiliates && len(created) > 0 {
		org, err := c.Organization.Get(ctx, v.OrgID)
		if err != nil {
			return nil, err
		}
		n := noticer{links: enrollment.New(func() time.Time { return now }, in.PublicURL), org: org, cmp: cmp, note: note}
		for _, a := range created {
			if !notified(a.Status) {
				continue
			}
			if err := n.queue(ctx, c, a); err != nil {
				return nil, err
			}
		}
	}

	return &ImportResult{
		JobID:     job.ID,
		RowsTotal: len(in.Affiliates),
		Imported:  t.imported,
		Skipped:   t.skipped,
		Errored:   t.errored,
		Reasons:   t.reasons,
	}, nil
}

// notified reports whether an imported affiliate of status gets the
// notice: a rejected or blocked affiliate is on file, not invited.
func notified(s affiliate.Status) bool {
	return s == affiliate.StatusApproved || s == affiliate.StatusPending
}

// planAffiliates checks every row and returns the ones to import; the
// others are noted in t.
func planAffiliates(ctx context.Context, c *ent.Client, cmp *ent.Campaign, rows []*ImportAffiliateRow, include map[affiliate.Status]bool, t *tally) ([]*plannedAffiliate, error) {
	firstRow := map[string]int{} // email → the row that imports it
	var planned []*plannedAffiliate
	for i, r := range rows {
		row := i + 1
		if r == nil {
			t.fail(row, "", "the row is empty: give at least an email")
			continue
		}
		email, ok := notify.Address(r.Email)
		if !ok {
			if strings.TrimSpace(r.Email) == "" {
				t.fail(row, "", "email is required")
			} else {
				t.fail(row, strings.TrimSpace(r.Email), "email %s is not an email address: give a bare address such as ada@example.com", quote(r.Email))
			}
			continue
		}
		p := &plannedAffiliate{row: row, email: email, status: affiliate.StatusApproved}
		if r.Status != nil && strings.TrimSpace(*r.Status) != "" {
			st, ok := parseStatus(*r.Status)
			if !ok {
				t.fail(row, email, "status %s is not one of %s", quote(*r.Status), statusList)
				continue
			}
			p.status = st
		}
		var why string
		if p.fullName, why = text("fullName", r.FullName, 200); why != "" {
			t.fail(row, email, "%s", why)
			continue
		}
		if r.PaypalEmail != nil && strings.TrimSpace(*r.PaypalEmail) != "" {
			pp, ok := notify.Address(*r.PaypalEmail)
			if !ok {
				t.fail(row, email, "paypalEmail %s is not an email address", quote(*r.PaypalEmail))
				continue
			}
			p.paypal = pp
		}
		if r.Slug != nil {
			p.wantSlug = strings.TrimSpace(*r.Slug)
		}
		if len(include) > 0 && !include[p.status] {
			t.skip(row, email, "status %s is not in includeStatuses", strings.ToLower(string(p.status)))
			continue
		}
		if first, dup := firstRow[email]; dup {
			t.skip(row, email, "duplicate of row %d in this batch (same email)", first)
			continue
		}
		firstRow[email] = row
		planned = append(planned, p)
	}
	if len(planned) == 0 {
		return nil, nil
	}

	emails := make([]string, 0, len(planned))
	for _, p := range planned {
		emails = append(emails, p.email)
	}
	existing, err := c.Affiliate.Query().
		Where(affiliate.CampaignID(cmp.ID), emailInFold(emails)).
		Select(affiliate.FieldID, affiliate.FieldEmail, affiliate.FieldStatus).
		All(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]*ent.Affiliate{}
	for _, a := range existing {
		have[strings.ToLower(a.Email)] = a
	}
	kept := planned[:0]
	for _, p := range planned {
		if a, ok := have[p.email]; ok {
			t.skip(p.row, p.email, "already an affiliate of this campaign (%s, %s)", a.ID, strings.ToLower(string(a.Status)))
			continue
		}
		kept = append(kept, p)
	}
	return kept, nil
}

// emailInFold matches affiliates whose email is one of emails (lower-case),
// in any case.
func emailInFold(emails []string) predicate.Affiliate {
	return func(s *sql.Selector) {
		args := make([]any, len(emails))
		for i, e := range emails {
			args[i] = e
		}
		s.Where(sql.In(sql.Lower(s.C(affiliate.FieldEmail)), args...))
	}
}

// assignSlugs gives every planned affiliate its slug: the requested one
// when it is well formed and free in the organization, else a fresh one,
// noting why.
func assignSlugs(ctx context.Context, c *ent.Client, planned []*plannedAffiliate, t *tally) error {
	var wanted []string
	for _, p := range planned {
		if s := strings.ToLower(p.wantSlug); s != "" && affiliate.SlugValidator(s) == nil {
			wanted = append(wanted, s)
		}
	}
	taken, err := takenSlugs(ctx, c, wanted)
	if err != nil {
		return err
	}
	var fresh []*plannedAffiliate
	for _, p := range planned {
		if p.wantSlug == "" {
			fresh = append(fresh, p)
			continue
		}
		s := strings.ToLower(p.wantSlug)
		switch {
		case affiliate.SlugValidator(s) != nil:
			p.slugRefused = fmt.Sprintf("slug %s is not a valid slug (lowercase letters, digits and single hyphens)", quote(p.wantSlug))
		case taken[s]:
			p.slugRefused = fmt.Sprintf("slug %q is taken in this organization", s)
		default:
			p.slug = s
			taken[s] = true
			continue
		}
		fresh = append(fresh, p)
	}
	// Fresh slugs: propose one per row, ask the database which are taken in
	// one query, and propose again for those (rarely more than one round).
	for range 10 {
		if len(fresh) == 0 {
			break
		}
		proposed := make([]string, len(fresh))
		for i, p := range fresh {
			base := slugBase(p.fullName)
			if base == "" {
				local, _, _ := strings.Cut(p.email, "@")
				base = slugBase(local)
			}
			if base == "" {
				base = "partner"
			}
			proposed[i] = base + "-" + enrollment.RandomSuffix(4)
		}
		inDB, err := takenSlugs(ctx, c, proposed)
		if err != nil {
			return err
		}
		var again []*plannedAffiliate
		for i, p := range fresh {
			s := proposed[i]
			if taken[s] || inDB[s] {
				again = append(again, p)
				continue
			}
			p.slug = s
			taken[s] = true
		}
		fresh = again
	}
	for _, p := range fresh { // crowded bases: a long suffix settles it
		p.slug = "partner-" + enrollment.RandomSuffix(12)
	}
	for _, p := range planned {
		if p.slugRefused != "" {
			t.note(p.row, OutcomeImported, p.email, "%s; imported with the fresh slug %s", p.slugRefused, p.slug)
		}
	}
	return nil
}

// takenSlugs returns which of slugs affiliates of the organization use.
func takenSlugs(ctx context.Context, c *ent.Client, slugs []string) (map[string]bool, error) {
	taken := map[string]bool{}
	err := chunk(slugs, 500, func(part []string) error {
		got, err := c.Affiliate.Query().Where(affiliate.SlugIn(part...)).Select(affiliate.FieldSlug).Strings(ctx)
		for _, s := range got {
			taken[s] = true
		}
		return err
	})
	return taken, err
}

// slugBase turns text into slug words: ASCII letters and digits, other
// runs become one hyphen, at most 40 characters.
func slugBase(s string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(s) {
		if b.Len() >= 40 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		default:
			hyphen = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// sanitizeNote sanitizes the brand's message, reporting problems under
// this operation's input name.
func sanitizeNote(s string) (string, error) {
	clean, err := notify.SanitizeNote(s)
	if fe, ok := err.(*fault.Error); ok {
		return "", fe.Renamed("notificationMessageHtml")
	}
	return clean, err
}

// noticer writes the email an imported affiliate gets: their referral code,
// what they earn, the brand's message and a link to their dashboard.
type noticer struct {
	links *enrollment.Service // mints the dashboard links, as of the import's time
	org   *ent.Organization
	cmp   *ent.Campaign
	note  string
}

func (n noticer) queue(ctx context.Context, c *ent.Client, a *ent.Affiliate) error {
	link, err := n.links.WelcomeLink(ctx, c, a)
	if err != nil {
		return err
	}
	heading := "Your " + n.cmp.Name + " affiliate account is ready"
	first := fmt.Sprintf("%s has added you to its affiliate program, %s. %s", n.org.Name, n.cmp.Name, earnings(n.cmp))
	paras := []string{enrollment.Greeting(a), first}
	if a.Status == affiliate.StatusPending {
		heading = "You've been added to " + n.cmp.Name
		paras = append(paras, fmt.Sprintf("Your account is waiting for %s's approval; you will get another email when it is approved.", n.org.Name))
	}
	paras = append(paras, enrollment.DashboardParagraphs(n.org, a)...)
	return notify.Queue(ctx, c, n.org, a.Email, notify.Message{
		Kind:        KindImportNotice,
		Subject:     notify.Subject(fmt.Sprintf("%s has added you to the %s affiliate program", n.org.Name, n.cmp.Name)),
		Heading:     heading,
		Paragraphs:  paras,
		NoteHTML:    n.note,
		ActionLabel: "Open your affiliate dashboard",
		ActionURL:   link,
	})
}

// earnings says what an affiliate of cmp earns, in words.
func earnings(cmp *ent.Campaign) string {
	what := "every sale you refer"
	switch cmp.CommissionModel {
	case "Cpl":
		what = "every signup you refer"
	case "Cpc":
		what = "every click you send"
	}
	if cmp.CommissionType == "Percentage" {
		return fmt.Sprintf("You earn %s of %s.", enrollment.FormatPercent(cmp.CommissionValue), what)
	}
	return fmt.Sprintf("You earn %s for %s.", enrollment.FormatMoney(cmp.CommissionValue, cmp.Currency), what)
}
