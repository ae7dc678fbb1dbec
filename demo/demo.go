// Package demo fills an organization with a year of realistic affiliate
// program history, so the dashboard, reports and payouts can be shown, tried
// and load-tested without real customers.
//
// The output is a pure function of the options, the organization's slug and
// how many campaigns the organization already had: the same Seed, counts and
// Now give the same rows (IDs, amounts, timestamps) on SQLite and PostgreSQL.
// Every number is made with integer arithmetic from math/rand/v2 PCG streams,
// so no floating-point rounding differs between machines. Each table draws
// from its own stream, so asking for more clicks does not change the
// conversions.
//
// Seeding an organization again adds a second, independent set of demo data
// instead of failing. A run marker, the number of campaigns the organization
// already has, goes into every campaign and affiliate slug ("-r4"), every
// coupon code ("-R4"), every external_id and the random streams, so neither
// IDs nor the per-organization unique keys collide with earlier runs; the
// first run into an organization without campaigns carries no marker. The
// slug also goes into the streams, so two organizations seeded with the same
// Seed in one database get different IDs. A seed that fails halfway leaves
// the rows it committed; running it again adds a fresh set beside them.
//
// Email addresses use reserved example domains (RFC 2606), so nothing the
// platform sends to demo affiliates or customers can reach a real inbox.
package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/schollz/progressbar/v3"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/affiliate"
	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/ent/campaign"
	"github.com/tandemhq/tandem/ent/click"
	"github.com/tandemhq/tandem/ent/conversion"
	"github.com/tandemhq/tandem/ent/coupon"
	"github.com/tandemhq/tandem/ent/lead"
	"github.com/tandemhq/tandem/ent/payoutbatch"
	"github.com/tandemhq/tandem/ent/payoutlineitem"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ids"
	"github.com/tandemhq/tandem/store"
)

// Options says how much history to make and where.
type Options struct {
	OrgID       string    // an existing organization (the caller resolves --org slug to the ID)
	Affiliates  int       // default 200
	Conversions int       // default 5000
	Clicks      int       // default 20000
	Seed        int64     // default 1; same seed + same options => identical rows (IDs, amounts, timestamps)
	Now         time.Time // injected clock: history spans the year before Now; zero means the wall clock
	Progress    io.Writer // where a progress bar is drawn (nil = none)
}

// Result counts the rows Seed wrote.
type Result struct {
	Campaigns   int           `json:"campaigns"`
	Affiliates  int           `json:"affiliates"`
	Clicks      int           `json:"clicks"`
	Leads       int           `json:"leads"`
	Conversions int           `json:"conversions"`
	Payouts     int           `json:"payouts"`
	PayoutLines int           `json:"payoutLines"`
	Coupons     int           `json:"coupons"`
	Elapsed     time.Duration `json:"elapsedNs"`
}

// Defaults for the zero values of Options: a mid-sized program that makes
// every dashboard page interesting and seeds in a few seconds.
const (
	DefaultAffiliates  = 200
	DefaultConversions = 5000
	DefaultClicks      = 20000
	DefaultSeed        = 1
)

// MaxAffiliates bounds Options.Affiliates: every affiliate is held in memory
// while the history is generated.
const MaxAffiliates = 1_000_000

// Seed writes a year of demo history into the organization opts.OrgID:
// campaigns, affiliates of every status (some recruited by others), coupons,
// clicks, leads, conversions in several currencies with every status, and
// the payout batches that paid them. Zero counts take the defaults; negative
// counts and an unknown organization are refused before anything is written.
// All writes run as the system (rule.AsSystem): there is no viewer. On error
// the Result is zero; rows already committed stay (see the package comment).
func Seed(ctx context.Context, db *store.DB, opts Options) (Result, error) {
	began := time.Now()
	if err := opts.normalize(); err != nil {
		return Result{}, err
	}
	ctx = rule.AsSystem(ctx)
	org, err := db.Client.Organization.Get(ctx, opts.OrgID)
	if ent.IsNotFound(err) {
		return Result{}, fmt.Errorf("demo: org %s not found", opts.OrgID)
	}
	if err != nil {
		return Result{}, fmt.Errorf("demo: loading org %s: %w", opts.OrgID, err)
	}
	s, err := newSeeder(ctx, db, org, opts)
	if err != nil {
		return Result{}, err
	}
	err = s.seed()
	s.w.close()
	if err != nil {
		s.bar.stop()
		return Result{}, err
	}
	s.res.Elapsed = time.Since(began)
	return s.res, nil
}

func (o *Options) normalize() error {
	if o.OrgID == "" {
		return errors.New("demo: Options.OrgID is required")
	}
	counts := []struct {
		name string
		v    *int
		def  int
	}{
		{"Affiliates", &o.Affiliates, DefaultAffiliates},
		{"Conversions", &o.Conversions, DefaultConversions},
		{"Clicks", &o.Clicks, DefaultClicks},
	}
	for _, c := range counts {
		switch {
		case *c.v < 0:
			return fmt.Errorf("demo: Options.%s must not be negative, got %d", c.name, *c.v)
		case *c.v == 0:
			*c.v = c.def
		}
	}
	if o.Affiliates > MaxAffiliates {
		return fmt.Errorf("demo: Options.Affiliates must be at most %d, got %d", MaxAffiliates, o.Affiliates)
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	// Milliseconds are what a ULID and every backend keep exactly.
	o.Now = o.Now.UTC().Truncate(time.Millisecond)
	return nil
}

// Durations in milliseconds, the unit every instant is kept in here.
const (
	second = int64(time.Second / time.Millisecond)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour

	historyDays = 365
)

// tm turns an instant in Unix milliseconds into a UTC time.
func tm(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// tmp is tm for an optional instant, zero meaning none.
func tmp(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := tm(ms)
	return &t
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ---------------------------------------------------------------------------
// Money. Rates are integers (micro-USD per major unit) so every amount is
// exact and identical on every machine; conversions round half up.

type currency struct {
	code     string
	decimals int
	usdMicro int64 // micro-USD per major unit at the base rate
}

var currencies = []currency{
	{"USD", 2, 1_000_000}, {"EUR", 2, 1_080_000}, {"GBP", 2, 1_270_000},
	{"CAD", 2, 730_000}, {"AUD", 2, 660_000}, {"JPY", 0, 6_700},
	{"CHF", 2, 1_130_000}, {"SEK", 2, 95_000}, {"NOK", 2, 93_000},
	{"DKK", 2, 145_000}, {"NZD", 2, 600_000}, {"SGD", 2, 740_000},
	{"HKD", 2, 128_000}, {"INR", 2, 12_000}, {"BRL", 2, 180_000},
	{"MXN", 2, 55_000}, {"PLN", 2, 250_000}, {"KRW", 0, 730}, {"ZAR", 2, 54_000},
}

// saleWeights are the shares of sales in the first entries of currencies
// (USD to JPY) when the home currency is USD; the home currency always
// takes the largest share.
var saleWeights = []int64{52, 16, 11, 8, 7, 6}

var pow10 = [...]int64{1, 10, 100, 1000}

// mulDivRound returns a*b/c rounded half up, for non-negative a, b and
// positive c, without overflowing in between; the result must fit in 63 bits.
func mulDivRound(a, b, c int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	lo, carry := bits.Add64(lo, uint64(c/2), 0)
	q, _ := bits.Div64(hi+carry, lo, uint64(c))
	return int64(q)
}

// nicePrice turns a USD amount in cents into a list price in currency c:
// exact in USD, whole units below 100, two significant figures above.
func nicePrice(usdCents int64, c int) int64 {
	cur := currencies[c]
	if cur.code == "USD" {
		return usdCents
	}
	minor := mulDivRound(usdCents, 1_000_000*pow10[cur.decimals], cur.usdMicro*100)
	unit := pow10[cur.decimals]
	major := (minor + unit/2) / unit
	if major >= 100 {
		p := int64(1)
		for major/p >= 100 {
			p *= 10
		}
		major = (major + p/2) / p * p
	}
	return max(major, 1) * unit
}

// fxTable holds a daily rate for every currency: a mean-reverting random
// walk around the base rate, so a year of history shows rates that move.
type fxTable [][]int64 // [currency][day] micro-USD per major unit

func newFX(r *rand.Rand) fxTable {
	fx := make(fxTable, len(currencies))
	for c, cur := range currencies {
		row := make([]int64, historyDays+1)
		v := cur.usdMicro
		for d := range row {
			if cur.code != "USD" && d > 0 {
				v += v*int64(r.IntN(41)-20)/10000 + (cur.usdMicro-v)/20
			}
			row[d] = v
		}
		fx[c] = row
	}
	return fx
}

// rate returns what one major unit of from cost in micro-units of to on day
// d: the fx_rate a conversion records, times a million.
func (fx fxTable) rate(from, to, d int) int64 {
	if from == to {
		return 1_000_000
	}
	return mulDivRound(fx[from][d], 1_000_000, fx[to][d])
}

// convert turns amount minor units of from into minor units of to at rate.
func convert(amount int64, from, to int, rate int64) int64 {
	num := rate * pow10[currencies[to].decimals]
	den := 1_000_000 * pow10[currencies[from].decimals]
	return mulDivRound(amount, num, den)
}

// ---------------------------------------------------------------------------
// Randomness.

func hash64(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// pcgReader lets a PCG stream feed the ULID entropy of an ids.Generator.
type pcgReader struct {
	p   *rand.PCG
	buf [8]byte
	n   int
}

func (r *pcgReader) Read(b []byte) (int, error) {
	for i := range b {
		if r.n == 0 {
			v := r.p.Uint64()
			for j := range r.buf {
				r.buf[j] = byte(v >> (8 * j))
			}
			r.n = len(r.buf)
		}
		r.n--
		b[i] = r.buf[r.n]
	}
	return len(b), nil
}

// pickWeighted returns an index drawn with probability proportional to w.
func pickWeighted(r *rand.Rand, w []int64) int {
	var total int64
	for _, x := range w {
		total += x
	}
	u := r.Int64N(total)
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

const (
	alnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hexDigs = "0123456789abcdef"
)

func randString(r *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// base62 writes v in exactly n base-62 digits, most significant first, so
// IDs made from time-ordered values sort by time.
func base62(v int64, n int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = digits[v%62]
		v /= 62
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// Word lists. ASCII only, so slugs and codes are made by lowercasing.

var firstNames = []string{
	"Maya", "Liam", "Sofia", "Noah", "Aisha", "Lucas", "Priya", "Mateo", "Chloe", "Ethan",
	"Zara", "Oliver", "Amara", "Leo", "Hannah", "Kenji", "Isabel", "Omar", "Grace", "Diego",
	"Elena", "Samuel", "Nadia", "Felix", "Yuki", "Gabriel", "Leila", "Jonas", "Ava", "Rafael",
	"Mei", "Daniel", "Freya", "Tomas", "Ines", "Arjun", "Clara", "Hugo", "Naomi", "Mohammed",
	"Lena", "Caleb", "Rosa", "Anders", "Fatima", "Julian", "Sienna", "Marco", "Aaliyah", "Theo",
	"Ingrid", "Kofi", "Lucia", "Ravi", "Emma", "Sebastian", "Hana", "Patrick", "Olivia", "Tariq",
}

var lastNames = []string{
	"Patel", "Garcia", "Kim", "Nguyen", "Okafor", "Schmidt", "Rossi", "Tanaka", "Silva", "Cohen",
	"Johansson", "Dubois", "Kowalski", "Murphy", "Haddad", "Novak", "Fernandes", "Chen", "Walker", "Andersen",
	"Mensah", "Rahman", "Lopez", "Moreau", "Ivanova", "Sato", "Brennan", "Costa", "Fischer", "Hughes",
	"Ali", "Jensen", "Romero", "Bianchi", "Yilmaz", "Osei", "Park", "Lindqvist", "Kaur", "Mendes",
	"Schneider", "Reyes", "Dimitrov", "Nakamura", "Ortiz", "Kelly", "Sharma", "Larsen", "Wagner", "Adeyemi",
	"Castro", "Ward", "Petrov", "Ito", "Moreno", "Baker", "Hansen", "Vargas", "Singh", "Klein",
}

var emailDomains = []string{
	"example.com", "example.net", "example.org",
	"mail.example.com", "inbox.example.net", "post.example.org",
}

var affiliateNotes = []string{
	"Runs a YouTube channel on indie SaaS, about 40k subscribers.",
	"Met at SaaStr; prefers a quarterly check-in call.",
	"Newsletter with 12k readers, mostly agency owners.",
	"Asked for a co-branded landing page.",
	"Writes comparison posts; send new feature announcements early.",
	"Podcast host, two episodes a month.",
}

var rejectionReasons = []string{
	"Promotes with paid search on our brand keywords.",
	"Website content does not match our audience.",
	"Incomplete application: no website or social profile.",
	"Duplicate of an existing affiliate account.",
}

var landingPaths = []string{"/", "/", "/pricing", "/pricing", "/features", "/signup", "/blog/how-we-grew-to-10k-users", "/templates"}

var referrers = []string{
	"", "", "https://www.google.com/", "https://www.google.com/", "https://www.youtube.com/",
	"https://twitter.com/", "https://www.linkedin.com/", "https://www.reddit.com/r/SaaS/",
	"https://news.ycombinator.com/", "https://www.producthunt.com/", "https://duckduckgo.com/",
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
}

// Prices in USD cents; other currencies get nicePrice of them.
var (
	planPrices    = []int64{2900, 4900, 9900, 19900, 49900}
	planWeights   = []int64{35, 30, 20, 10, 5}
	productPrices = []int64{4900, 7900, 12900, 19900, 34900, 59900, 99000, 149000}
	productWeight = []int64{20, 22, 18, 14, 10, 8, 5, 3}
)

// ---------------------------------------------------------------------------
// The program being simulated.

// What a campaign sells, which decides conversion types and amounts.
const (
	kindMonthly  = iota // SaaS monthly plans: first payments and renewals
	kindServices        // one-off orders
	kindLeads           // sign-ups paid per lead
	kindAnnual          // SaaS annual plans
)

type camp struct {
	id, name, slug, desc string
	typ                  campaign.CommissionType
	value                int64
	model                campaign.CommissionModel
	cookie               int
	attr                 campaign.AttributionModel
	auto                 bool
	vis                  campaign.NetworkVisibility
	sub                  bool
	overrideBps          int
	selfMint             bool
	status               campaign.Status
	share                int64 // relative share of affiliates
	kind                 int
	created, updated     int64
}

// The campaign that pauses, and the one whose latest payout failed.
const (
	pausedCampaign = 3
	failedCampaign = 2
)

type aff struct {
	id                     string
	camp                   int
	num                    int
	first, last            string
	slug, email, paypal    string
	status                 affiliate.Status
	created, approved      int64
	updated                int64
	weight                 int64
	tier                   int
	recruiter              int // index into affs, -1 = none
	customValue            int64
	notes, rejectionReason string
}

// picker draws the affiliate credited with an event at an instant: only
// those approved by then, weighted so a few affiliates earn most.
type picker struct {
	idx []int
	at  []int64
	cum []int64
}

func newPicker(affs []*aff, keep func(*aff) bool) *picker {
	p := &picker{}
	var order []int
	for i, a := range affs {
		if a.approved != 0 && keep(a) {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return affs[order[i]].approved < affs[order[j]].approved })
	var total int64
	for _, i := range order {
		total += affs[i].weight
		p.idx = append(p.idx, i)
		p.at = append(p.at, affs[i].approved)
		p.cum = append(p.cum, total)
	}
	return p
}

func (p *picker) pick(r *rand.Rand, t int64) (int, bool) {
	k := sort.Search(len(p.at), func(i int) bool { return p.at[i] > t })
	if k == 0 {
		return -1, false
	}
	u := r.Int64N(p.cum[k-1])
	return p.idx[sort.Search(k, func(i int) bool { return p.cum[i] > u })], true
}

// timeline hands out n instants in [from, to), oldest first, so rows are
// written in primary-key order. More fall on weekdays, around Black Friday
// and as the program grows. Counts per day are exact; only the instants
// within a day are drawn, so generation streams in constant memory.
type timeline struct {
	r          *rand.Rand
	from, span int64
	days       int
	n          int64
	cum        []int64
	d          int
	done       int64
	buf        []int64
	pos        int
}

func newTimeline(r *rand.Rand, from, to int64, n int) *timeline {
	span := max(to-from, 1)
	days := int(max((span+day-1)/day, 1))
	tl := &timeline{r: r, from: from, span: span, days: days, n: int64(n), cum: make([]int64, days)}
	weekday := [7]int64{75, 110, 108, 104, 100, 92, 70} // Sunday first
	var total int64
	for d := range days {
		at := tm(from + span*int64(d)/int64(days))
		season := int64(100)
		switch {
		case at.Month() == time.November && at.Day() >= 24, at.Month() == time.December && at.Day() <= 2:
			season = 190
		case at.Month() == time.December:
			season = 115
		case at.Month() == time.July, at.Month() == time.August:
			season = 88
		}
		growth := 400 + 600*int64(d)/int64(days)
		total += growth * weekday[at.Weekday()] * season
		tl.cum[d] = total
	}
	return tl
}

func (tl *timeline) next() (int64, bool) {
	for tl.pos == len(tl.buf) {
		if tl.d == tl.days {
			return 0, false
		}
		upto := mulDivRound(tl.n, tl.cum[tl.d], tl.cum[tl.days-1])
		if tl.d == tl.days-1 {
			upto = tl.n
		}
		start := tl.from + tl.span*int64(tl.d)/int64(tl.days)
		end := max(tl.from+tl.span*int64(tl.d+1)/int64(tl.days), start+1)
		tl.buf = tl.buf[:0]
		for range upto - tl.done {
			tl.buf = append(tl.buf, start+tl.r.Int64N(end-start))
		}
		slices.Sort(tl.buf)
		tl.done, tl.pos = upto, 0
		tl.d++
	}
	t := tl.buf[tl.pos]
	tl.pos++
	return t, true
}

type batch struct {
	id             string
	status         payoutbatch.Status
	created, paid  int64
	cutoff         int64 // paid batches pay what became payable by then
	camp           int   // -1 = every campaign
	failure        string
	lines          []*line
	total          int64
	lineStatus     payoutlineitem.Status
	lineFailReason string
}

type line struct {
	id     string
	aff    int
	amount int64
	count  int
}

// ---------------------------------------------------------------------------
// The seeder.

type seeder struct {
	ctx   context.Context
	org   *ent.Organization
	opts  Options
	run   int
	tag   string // "" on the first run, "-r<run>" after
	s1    uint64
	s2    uint64
	now   int64
	t0    int64 // Now minus a year
	grace int64
	home  int
	fx    fxTable

	saleCurs    []int
	saleCurW    []int64
	plans       [][]int64 // [currency][plan] monthly list price
	annualPlans [][]int64
	products    [][]int64

	camps    []*camp
	affs     []*aff
	all      *picker
	live     *picker // without the paused campaign's affiliates
	pausedAt int64
	first    int64 // the first approval: activity starts here

	batches   []*batch
	paidCount int             // batches[:paidCount] are the paid monthly ones
	lineIDs   map[int64]*line // batch*len(affs)+aff
	leadTotal int             // leads the conversions bring, counted by the plan
	w         writer
	bar       progress
	res       Result
	limits    map[string]int // rows per INSERT by table
	idGens    map[string]*ids.Generator
}

func newSeeder(ctx context.Context, db *store.DB, org *ent.Organization, opts Options) (*seeder, error) {
	home := -1
	for i, c := range currencies {
		if c.code == org.HomeCurrency {
			home = i
		}
	}
	if home < 0 {
		codes := make([]string, len(currencies))
		for i, c := range currencies {
			codes[i] = c.code
		}
		return nil, fmt.Errorf("demo: org %s has home currency %s, which the demo has no exchange rate for (it knows %s)",
			org.ID, org.HomeCurrency, strings.Join(codes, ", "))
	}
	run, err := runMarker(ctx, db, org.ID)
	if err != nil {
		return nil, err
	}
	s := &seeder{
		ctx:    ctx,
		org:    org,
		opts:   opts,
		run:    run,
		s1:     uint64(opts.Seed),
		s2:     hash64(org.Slug) ^ uint64(run)*0x9E3779B97F4A7C15,
		now:    opts.Now.UnixMilli(),
		grace:  int64(org.PayoutGraceDays) * day,
		home:   home,
		idGens: map[string]*ids.Generator{},
		bar:    progress{w: opts.Progress},
	}
	if run > 0 {
		s.tag = "-r" + strconv.Itoa(run)
	}
	s.t0 = s.now - historyDays*day
	s.pausedAt = s.now - 75*day
	s.fx = newFX(s.stream("fx"))
	s.w = writer{ctx: ctx, db: db}
	s.limits = map[string]int{}
	for name, cols := range map[string]int{
		"campaigns": len(campaign.Columns), "affiliates": len(affiliate.Columns), "coupons": len(coupon.Columns),
		"clicks": len(click.Columns), "leads": len(lead.Columns), "conversions": len(conversion.Columns),
		"payout_batches": len(payoutbatch.Columns), "payout_line_items": len(payoutlineitem.Columns),
	} {
		s.limits[name] = rowsPerInsert(db.Dialect, cols)
	}
	s.pricing()
	return s, nil
}

// runMarker picks the marker that keeps this run's unique keys apart from
// earlier runs': the organization's campaign count, stepped past any marker
// whose campaign slugs are already taken.
func runMarker(ctx context.Context, db *store.DB, orgID string) (int, error) {
	slugs, err := db.Client.Campaign.Query().Where(campaign.OrgID(orgID)).Select(campaign.FieldSlug).Strings(ctx)
	if err != nil {
		return 0, fmt.Errorf("demo: reading campaigns: %w", err)
	}
	taken := map[string]bool{}
	for _, s := range slugs {
		taken[s] = true
	}
	for run := len(slugs); ; run++ {
		free := true
		for _, c := range campaignSpecs {
			slug := c.slug
			if run > 0 {
				slug += "-r" + strconv.Itoa(run)
			}
			free = free && !taken[slug]
		}
		if free {
			return run, nil
		}
	}
}

// Statement limits on bound parameters: SQLite's SQLITE_MAX_VARIABLE_NUMBER
// and PostgreSQL's 16-bit parameter count.
const (
	sqliteMaxParams   = 32766
	postgresMaxParams = 65535
	maxRowsPerInsert  = 1000
)

// rowsPerInsert is how many rows of a table with cols columns fit in one
// INSERT under the backend's bound-parameter limit.
func rowsPerInsert(dialectName string, cols int) int {
	limit := sqliteMaxParams
	if dialectName == dialect.Postgres {
		limit = postgresMaxParams
	}
	return max(1, min(maxRowsPerInsert, limit/cols))
}

// stream returns the random stream named name. Separate streams keep one
// table's draws from shifting another's.
func (s *seeder) stream(name string) *rand.Rand {
	return rand.New(rand.NewPCG(s.s1^hash64(name), s.s2))
}

// id returns an ID for a row of the entity with this prefix made at ms.
func (s *seeder) id(prefix string, ms int64) string {
	g, ok := s.idGens[prefix]
	if !ok {
		g = ids.NewGenerator(&pcgReader{p: rand.NewPCG(s.s1^hash64("ids/"+prefix), s.s2)})
		s.idGens[prefix] = g
	}
	return g.At(prefix, tm(ms))
}

func (s *seeder) day(ms int64) int {
	return int(min(max((ms-s.t0)/day, 0), historyDays))
}

func (s *seeder) pricing() {
	for i := range saleWeights {
		s.saleCurs = append(s.saleCurs, i)
		s.saleCurW = append(s.saleCurW, saleWeights[i])
	}
	switch {
	case s.home >= len(saleWeights):
		s.saleCurs = append(s.saleCurs, s.home)
		s.saleCurW = append(s.saleCurW, 50)
	case s.home != 0:
		s.saleCurW[0], s.saleCurW[s.home] = s.saleCurW[s.home], s.saleCurW[0]
	}
	n := len(currencies)
	s.plans, s.annualPlans, s.products = make([][]int64, n), make([][]int64, n), make([][]int64, n)
	for _, c := range s.saleCurs {
		for _, p := range planPrices {
			s.plans[c] = append(s.plans[c], nicePrice(p, c))
			s.annualPlans[c] = append(s.annualPlans[c], nicePrice(p*10, c))
		}
		for _, p := range productPrices {
			s.products[c] = append(s.products[c], nicePrice(p, c))
		}
	}
}

func (s *seeder) seed() error {
	steps := []struct {
		desc string
		run  func() error
	}{
		{"campaigns & affiliates", s.seedCampaignsAndAffiliates},
		{"coupons", s.seedCoupons},
		{"clicks", s.seedClicks},
		{"planning payouts", s.planPayouts},
		{"payout batches", s.seedPayouts},
		{"leads & conversions", s.seedConversions},
	}
	for i, st := range steps {
		s.bar.phase = fmt.Sprintf("[%d/%d] %s", i+1, len(steps), st.desc)
		if err := st.run(); err != nil {
			return err
		}
		if err := s.w.commit(); err != nil {
			return err
		}
		s.bar.stop()
	}
	return s.audit()
}

// ---------------------------------------------------------------------------
// Writing. Rows go in multi-row INSERTs built by ent's CreateBulk, about a
// hundred thousand rows to a transaction, all on one pinned connection.
// Measured on SQLite with a million conversions: transactions of ten
// thousand rows wrote four and a half times the database's size to disk,
// a hundred thousand about twice (the WAL's floor); a larger page cache for
// the seeding connection keeps a transaction's dirty pages from spilling
// into the WAL before it commits.

const (
	rowsPerTx      = 100_000
	sqliteCacheKiB = 256 << 10
)

type writer struct {
	ctx     context.Context
	db      *store.DB
	conn    *sql.Conn
	restore string // the statement that puts the connection back as it was
	tx      *sql.Tx
	client  *ent.Client
	rows    int
}

// c returns a client on the open transaction, opening one if needed.
func (w *writer) c() (*ent.Client, error) {
	if w.conn == nil {
		conn, err := w.db.SQL.Conn(w.ctx)
		if err != nil {
			return nil, fmt.Errorf("demo: connecting: %w", err)
		}
		w.conn = conn
		if w.db.Dialect == dialect.SQLite {
			var old int64
			if err := conn.QueryRowContext(w.ctx, "PRAGMA cache_size").Scan(&old); err != nil {
				return nil, fmt.Errorf("demo: reading cache_size: %w", err)
			}
			if _, err := conn.ExecContext(w.ctx, fmt.Sprintf("PRAGMA cache_size = %d", -sqliteCacheKiB)); err != nil {
				return nil, fmt.Errorf("demo: setting cache_size: %w", err)
			}
			w.restore = fmt.Sprintf("PRAGMA cache_size = %d", old)
		}
	}
	if w.tx == nil {
		tx, err := w.conn.BeginTx(w.ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("demo: starting a transaction: %w", err)
		}
		w.tx, w.rows = tx, 0
		w.client = ent.NewClient(ent.Driver(entsql.NewDriver(w.db.Dialect, entsql.Conn{ExecQuerier: tx})))
	}
	return w.client, nil
}

// wrote counts rows written and commits once a transaction holds enough.
func (w *writer) wrote(rows int) error {
	w.rows += rows
	if w.rows >= rowsPerTx {
		return w.commit()
	}
	return nil
}

func (w *writer) commit() error {
	if w.tx == nil {
		return nil
	}
	tx := w.tx
	w.tx, w.client = nil, nil
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("demo: committing: %w", err)
	}
	return nil
}

// close rolls back what is uncommitted and hands the connection back to
// the pool as it found it.
func (w *writer) close() {
	if w.tx != nil {
		_ = w.tx.Rollback()
		w.tx, w.client = nil, nil
	}
	if w.conn != nil {
		if w.restore != "" {
			_, _ = w.conn.ExecContext(context.WithoutCancel(w.ctx), w.restore)
		}
		_ = w.conn.Close()
		w.conn = nil
	}
}

// insert writes rows[0:n] of a table in INSERTs of at most limit rows, each
// built by build from the transaction's client.
func insert(s *seeder, table string, n int, build func(c *ent.Client, from, to int) error) error {
	limit := s.limits[table]
	for from := 0; from < n; from += limit {
		c, err := s.w.c()
		if err != nil {
			return err
		}
		to := min(from+limit, n)
		if err := build(c, from, to); err != nil {
			return fmt.Errorf("demo: inserting %s: %w", table, err)
		}
		s.bar.add(to - from)
		if err := s.w.wrote(to - from); err != nil {
			return err
		}
	}
	return nil
}

// progress draws one bar per phase, when there is somewhere to draw it.
type progress struct {
	w     io.Writer
	phase string
	bar   *progressbar.ProgressBar
}

func (p *progress) start(total int) {
	if p.w == nil || total <= 0 {
		return
	}
	p.bar = progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(p.phase),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
	)
}

func (p *progress) add(n int) {
	if p.bar != nil {
		_ = p.bar.Add(n)
	}
}

func (p *progress) stop() {
	if p.bar != nil {
		_ = p.bar.Finish()
		_, _ = fmt.Fprintln(p.w)
		p.bar = nil
	}
}

// ---------------------------------------------------------------------------
// Campaigns and affiliates.

var campaignSpecs = []camp{
	{
		name: "Creator Partners", slug: "creator-partners",
		desc: "30% recurring commission on every plan for creators and educators. Recruit other creators and earn 10% of what they earn.",
		typ:  campaign.CommissionTypePercentage, value: 3000, model: campaign.CommissionModelCps,
		cookie: 60, attr: campaign.AttributionModelLastClick, auto: true, vis: campaign.NetworkVisibilityPublic,
		sub: true, overrideBps: 1000, status: campaign.StatusActive, share: 45, kind: kindMonthly,
	},
	{
		name: "Agency & Reseller Program", slug: "agency-resellers",
		desc: "20% of every order placed by clients you bring. Mint your own discount codes for your clients.",
		typ:  campaign.CommissionTypePercentage, value: 2000, model: campaign.CommissionModelCps,
		cookie: 90, attr: campaign.AttributionModelFirstClick, vis: campaign.NetworkVisibilityPrivate,
		selfMint: true, status: campaign.StatusActive, share: 25, kind: kindServices,
	},
	{
		name: "Lead Bounty", slug: "lead-bounty",
		desc: "A flat bounty for every qualified trial sign-up.",
		typ:  campaign.CommissionTypeFixed, value: 1500, model: campaign.CommissionModelCpl,
		cookie: 30, attr: campaign.AttributionModelLastClick, vis: campaign.NetworkVisibilityPublic,
		status: campaign.StatusActive, share: 20, kind: kindLeads,
	},
	{
		name: "Annual Plan Bonus", slug: "annual-plan-bonus",
		desc: "A flat bonus for every annual plan sold. Paused while we rework annual pricing.",
		typ:  campaign.CommissionTypeFixed, value: 5000, model: campaign.CommissionModelCps,
		cookie: 45, attr: campaign.AttributionModelLastClick, vis: campaign.NetworkVisibilityPrivate,
		status: campaign.StatusPaused, share: 10, kind: kindAnnual,
	},
}

func (s *seeder) seedCampaignsAndAffiliates() error {
	for i, spec := range campaignSpecs {
		c := spec
		c.slug += s.tag
		c.created = s.t0 + int64(i)*47*minute
		c.updated = c.created
		if c.status == campaign.StatusPaused {
			c.updated = s.pausedAt
		}
		if c.typ == campaign.CommissionTypeFixed {
			// Fixed commissions are set in the home currency; the specs are USD.
			c.value = nicePrice(c.value, s.home)
		}
		c.id = s.id("cmp", c.created)
		s.camps = append(s.camps, &c)
	}
	s.makeAffiliates()
	s.bar.start(len(s.camps) + len(s.affs))
	termsURL := fmt.Sprintf("https://%s.example.com/partners/terms", s.org.Slug)
	err := insert(s, "campaigns", len(s.camps), func(cl *ent.Client, from, to int) error {
		bs := make([]*ent.CampaignCreate, 0, to-from)
		for _, c := range s.camps[from:to] {
			bs = append(bs, cl.Campaign.Create().
				SetID(c.id).SetOrgID(s.org.ID).SetCreatedAt(tm(c.created)).SetUpdatedAt(tm(c.updated)).
				SetName(c.name).SetSlug(c.slug).SetDescription(c.desc).SetTermsURL(termsURL).
				SetStatus(c.status).SetCommissionType(c.typ).SetCommissionValue(c.value).
				SetCommissionModel(c.model).SetCurrency(currencies[s.home].code).
				SetCookieWindowDays(c.cookie).SetAttributionModel(c.attr).SetAutoApprove(c.auto).
				SetNetworkVisibility(c.vis).SetSubAffiliatesEnabled(c.sub).
				SetSubAffiliateOverrideBps(c.overrideBps).SetCouponSelfMint(c.selfMint))
		}
		return cl.Campaign.CreateBulk(bs...).Exec(s.ctx)
	})
	if err != nil {
		return err
	}
	s.res.Campaigns = len(s.camps)
	err = insert(s, "affiliates", len(s.affs), func(cl *ent.Client, from, to int) error {
		bs := make([]*ent.AffiliateCreate, 0, to-from)
		for _, a := range s.affs[from:to] {
			b := cl.Affiliate.Create().
				SetID(a.id).SetOrgID(s.org.ID).SetCreatedAt(tm(a.created)).SetUpdatedAt(tm(a.updated)).
				SetCampaignID(s.camps[a.camp].id).SetEmail(a.email).SetFullName(a.first + " " + a.last).
				SetSlug(a.slug).SetStatus(a.status).SetNillablePaypalEmail(strp(a.paypal)).
				SetNillableNotes(strp(a.notes)).SetNillableRejectionReason(strp(a.rejectionReason)).
				SetNillableApprovedAt(tmp(a.approved))
			if a.recruiter >= 0 {
				b.SetRecruitedByID(s.affs[a.recruiter].id)
			}
			if a.customValue > 0 {
				b.SetCustomCommissionType(affiliate.CustomCommissionTypePercentage).SetCustomCommissionValue(a.customValue)
			}
			bs = append(bs, b)
		}
		return cl.Affiliate.CreateBulk(bs...).Exec(s.ctx)
	})
	if err != nil {
		return err
	}
	s.res.Affiliates = len(s.affs)
	return nil
}

// growthInstant draws an instant in [from, to), more likely later, as a
// program that grows over the year.
func growthInstant(r *rand.Rand, from, to int64) int64 {
	for {
		x := from + r.Int64N(to-from)
		if r.Int64N(1000) < 300+700*(x-from)/(to-from) {
			return x
		}
	}
}

func (s *seeder) makeAffiliates() {
	r := s.stream("affiliates")
	n := s.opts.Affiliates
	created := make([]int64, n)
	for i := range created {
		if r.IntN(100) < 12 {
			created[i] = s.t0 + day + r.Int64N(9*day) // the launch cohort
		} else {
			created[i] = growthInstant(r, s.t0+day, s.now-hour)
		}
	}
	slices.Sort(created)
	shares := make([]int64, len(s.camps))
	for i, c := range s.camps {
		shares[i] = c.share
	}
	// Every status shows up whenever there are enough affiliates to spare:
	// the first of each campaign approved, then one each of the rest.
	forced := map[int]affiliate.Status{}
	if n >= 8 {
		forced[4+(n-4)/3] = affiliate.StatusBlocked
		forced[4+(n-4)/2] = affiliate.StatusRejected
		forced[n-1] = affiliate.StatusPending
	}
	var recruiters []int // approved affiliates of the sub-affiliate campaign
	for i := range n {
		a := &aff{num: i + 1, created: created[i], recruiter: -1}
		a.camp = pickWeighted(r, shares)
		if i < len(s.camps) {
			a.camp = i
		}
		a.first, a.last = firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		domain := emailDomains[r.IntN(len(emailDomains))]
		c := s.camps[a.camp]
		recent := a.created > s.now-10*day
		roll := r.IntN(100)
		switch {
		case i < len(s.camps):
			a.status = affiliate.StatusApproved
		case recent && roll < 65 && !c.auto:
			a.status = affiliate.StatusPending
		case recent && roll >= 95 && !c.auto:
			a.status = affiliate.StatusRejected
		case recent:
			a.status = affiliate.StatusApproved
		case roll < 83:
			a.status = affiliate.StatusApproved
		case roll < 90:
			a.status = affiliate.StatusRejected
		case roll < 95:
			a.status = affiliate.StatusBlocked
		case c.auto:
			a.status = affiliate.StatusApproved
		default:
			a.status = affiliate.StatusPending
		}
		if st, ok := forced[i]; ok {
			a.status = st
			if st == affiliate.StatusPending && c.auto {
				a.camp, c = 1, s.camps[1] // auto-approving campaigns have no one pending
			}
		}
		review := 2*hour + r.Int64N(94*hour)
		if c.auto {
			review = second + r.Int64N(90*second)
		}
		decided := min(a.created+review, s.now-minute)
		decided = max(decided, a.created)
		a.updated = a.created
		switch a.status {
		case affiliate.StatusApproved:
			a.approved, a.updated = decided, decided
		case affiliate.StatusBlocked:
			a.approved = decided
			a.updated = decided + r.Int64N(max(s.now-decided, 1))
			a.notes = "Blocked: self-referrals from the same payment card."
		case affiliate.StatusRejected:
			a.updated = decided
			a.rejectionReason = rejectionReasons[r.IntN(len(rejectionReasons))]
		}
		tierRoll := r.IntN(100)
		switch {
		case a.status == affiliate.StatusBlocked:
			a.weight, a.tier = 5+r.Int64N(25), 3
		case tierRoll < 3:
			a.weight, a.tier = 400+r.Int64N(400), 0
		case tierRoll < 15:
			a.weight, a.tier = 100+r.Int64N(200), 1
		case tierRoll < 50:
			a.weight, a.tier = 20+r.Int64N(40), 2
		default:
			a.weight, a.tier = 1+r.Int64N(10), 3
		}
		if a.status == affiliate.StatusApproved && a.tier == 0 && c.typ == campaign.CommissionTypePercentage {
			a.customValue = c.value + 500 // a top performer's negotiated rate
		}
		if a.notes == "" && r.IntN(100) < 10 {
			a.notes = affiliateNotes[r.IntN(len(affiliateNotes))]
		}
		if c.sub && i > 0 && r.IntN(100) < 35 && len(recruiters) > 0 {
			for range 5 {
				j := recruiters[r.IntN(len(recruiters))]
				if s.affs[j].approved < a.created {
					a.recruiter = j
					break
				}
			}
		}
		if c.sub && a.status == affiliate.StatusApproved {
			recruiters = append(recruiters, i)
		}
		first, last := strings.ToLower(a.first), strings.ToLower(a.last)
		a.slug = fmt.Sprintf("%s-%s-%d%s", first, last, a.num, s.tag)
		a.email = fmt.Sprintf("%s.%s%d@%s", first, last, a.num, domain)
		if a.approved != 0 {
			switch p := r.IntN(100); {
			case p < 75:
				a.paypal = a.email
			case p < 90:
				a.paypal = fmt.Sprintf("payouts.%s%d@%s", first, a.num, domain)
			}
		}
		a.id = s.id("aff", a.created)
		s.affs = append(s.affs, a)
	}
	s.all = newPicker(s.affs, func(*aff) bool { return true })
	s.live = newPicker(s.affs, func(a *aff) bool { return a.camp != pausedCampaign })
	s.first = s.now
	if len(s.all.at) > 0 {
		s.first = s.all.at[0]
	}
}

// pick returns the affiliate credited with an event at t.
func (s *seeder) pick(r *rand.Rand, t int64) int {
	if t >= s.pausedAt {
		if i, ok := s.live.pick(r, t); ok {
			return i
		}
	}
	i, _ := s.all.pick(r, t)
	return i
}

// ---------------------------------------------------------------------------
// Coupons: a few campaign-wide codes, and per-affiliate codes on the
// campaign that lets affiliates mint their own and for top creators.

type couponRow struct {
	id, code, name string
	camp, aff      int
	percent        float64
	amountOff      int64
	duration       coupon.Duration
	months         int
	maxRedemptions int
	redeemed       int
	created        int64
	expires        int64
	revoked        int64
	selfMinted     bool
}

func (s *seeder) seedCoupons() error {
	r := s.stream("coupons")
	scale := max(s.opts.Conversions/50, 10)
	var rows []couponRow
	campaignWide := func(ci int, code, name string) couponRow {
		return couponRow{camp: ci, aff: -1, code: code + strings.ToUpper(s.tag), name: name,
			created: s.camps[ci].created + 2*day + r.Int64N(20*day), redeemed: r.IntN(scale)}
	}
	welcome := campaignWide(0, "WELCOME-20", "Welcome: 20% off for three months")
	welcome.percent, welcome.duration, welcome.months = 20, coupon.DurationRepeating, 3
	launch := campaignWide(0, "LAUNCH-30", "Launch week: 30% off the first payment")
	launch.percent, launch.duration = 30, coupon.DurationOnce
	launch.maxRedemptions, launch.redeemed = 500, min(launch.redeemed, 500)
	launch.expires = s.camps[0].created + 45*day
	agency := campaignWide(1, "AGENCY-15", "Agency clients: 15% off every order")
	agency.percent, agency.duration = 15, coupon.DurationForever
	annual := campaignWide(pausedCampaign, "ANNUAL-50", "Annual plans: a fixed discount")
	annual.amountOff, annual.duration, annual.revoked = nicePrice(5000, s.home), coupon.DurationOnce, s.pausedAt
	rows = append(rows, welcome, launch, agency, annual)
	for ai, a := range s.affs {
		c := s.camps[a.camp]
		if a.approved == 0 || !(c.selfMint && r.IntN(100) < 70 || c.sub && a.tier <= 1) {
			continue
		}
		until := s.now
		if a.status == affiliate.StatusBlocked {
			until = a.updated
		}
		row := couponRow{camp: a.camp, aff: ai,
			code:     strings.ToUpper(a.slug), // unique in the org because the slug is
			created:  a.approved + r.Int64N(max(min(20*day, until-a.approved), 1)),
			redeemed: r.IntN(50), selfMinted: c.selfMint}
		if c.selfMint {
			row.percent = float64(10 + 5*r.IntN(3))
			row.name = fmt.Sprintf("%s's clients: %d%% off", a.first, int(row.percent))
			row.duration = coupon.DurationOnce
		} else {
			row.percent, row.duration, row.months = 25, coupon.DurationRepeating, 12
			row.name = fmt.Sprintf("%s's audience: 25%% off the first year", a.first)
		}
		if a.status == affiliate.StatusBlocked {
			row.revoked = a.updated
		}
		rows = append(rows, row)
	}
	for i := range rows {
		rows[i].id = s.id("cpn", rows[i].created)
	}
	s.bar.start(len(rows))
	err := insert(s, "coupons", len(rows), func(cl *ent.Client, from, to int) error {
		bs := make([]*ent.CouponCreate, 0, to-from)
		for _, row := range rows[from:to] {
			updated := row.created
			if row.revoked != 0 {
				updated = row.revoked
			}
			b := cl.Coupon.Create().
				SetID(row.id).SetOrgID(s.org.ID).SetCreatedAt(tm(row.created)).SetUpdatedAt(tm(updated)).
				SetCampaignID(s.camps[row.camp].id).SetCode(row.code).SetName(row.name).
				SetDuration(row.duration).SetTimesRedeemed(row.redeemed).
				SetNillableExpiresAt(tmp(row.expires)).SetNillableRevokedAt(tmp(row.revoked))
			if row.aff >= 0 {
				b.SetAffiliateID(s.affs[row.aff].id)
			}
			if row.percent > 0 {
				b.SetPercentOff(row.percent)
			}
			if row.amountOff > 0 {
				b.SetAmountOffCents(row.amountOff).SetCurrency(currencies[s.home].code)
			}
			if row.months > 0 {
				b.SetDurationInMonths(row.months)
			}
			if row.maxRedemptions > 0 {
				b.SetMaxRedemptions(row.maxRedemptions)
			}
			if row.selfMinted {
				b.SetMetadata(map[string]any{"minted_by": "affiliate"})
			}
			bs = append(bs, b)
		}
		return cl.Coupon.CreateBulk(bs...).Exec(s.ctx)
	})
	if err != nil {
		return err
	}
	s.res.Coupons = len(rows)
	return nil
}

// ---------------------------------------------------------------------------
// Clicks.

type clickRow struct {
	id                                            string
	aff                                           int
	t                                             int64
	landing, referrer, param, visitor, ipHash, ua string
}

func (s *seeder) seedClicks() error {
	r := s.stream("clicks")
	tl := newTimeline(r, s.first, s.now, s.opts.Clicks)
	limit := s.limits["clicks"]
	buf := make([]clickRow, 0, limit)
	s.bar.start(s.opts.Clicks)
	params := []string{"ref", "ref", "ref", "ref", "ref", "ref", "ref", "via", "via", "aff"}
	flush := func() error {
		err := insert(s, "clicks", len(buf), func(cl *ent.Client, from, to int) error {
			bs := make([]*ent.ClickCreate, 0, to-from)
			for _, row := range buf[from:to] {
				bs = append(bs, cl.Click.Create().
					SetID(row.id).SetOrgID(s.org.ID).SetCreatedAt(tm(row.t)).SetUpdatedAt(tm(row.t)).
					SetAffiliateID(s.affs[row.aff].id).SetCampaignID(s.camps[s.affs[row.aff].camp].id).
					SetOccurredAt(tm(row.t)).SetLandingURL(row.landing).SetReferrer(row.referrer).
					SetAttributionParam(row.param).SetVisitorID(row.visitor).SetIPHash(row.ipHash).
					SetUserAgent(row.ua))
			}
			return cl.Click.CreateBulk(bs...).Exec(s.ctx)
		})
		s.res.Clicks += len(buf)
		buf = buf[:0]
		return err
	}
	for {
		t, ok := tl.next()
		if !ok {
			break
		}
		ai := s.pick(r, t)
		a := s.affs[ai]
		param := params[r.IntN(len(params))]
		ref := referrers[r.IntN(len(referrers))]
		if r.IntN(100) < 12 {
			ref = fmt.Sprintf("https://%s.example.net/blog/", a.slug)
		}
		buf = append(buf, clickRow{
			id: s.id("clk", t), aff: ai, t: t,
			landing:  fmt.Sprintf("https://%s.example.com%s?%s=%s", s.org.Slug, landingPaths[r.IntN(len(landingPaths))], param, a.slug),
			referrer: ref, param: param,
			visitor: "v_" + randString(r, alnum, 22),
			ipHash:  randString(r, hexDigs, 64),
			ua:      userAgents[r.IntN(len(userAgents))],
		})
		if len(buf) == limit {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// ---------------------------------------------------------------------------
// Conversions. The history is generated twice from the same stream: once
// to total each affiliate's share of each payout batch, then again to write
// the conversions, which must point at line items that already exist.

type convEvent struct {
	t                          int64
	aff                        int
	typ                        conversion.Type
	status                     conversion.Status
	cur                        int
	rate                       int64
	amount, commission         int64
	homeAmount, homeCommission int64
	override                   int64
	approved, paid, updated    int64
	batch                      int // -1 = none
	leadAt                     int64
	extra                      [2]int64 // sign-ups that never bought
	nExtra                     int
}

type convGen struct {
	s  *seeder
	r  *rand.Rand
	tl *timeline
}

func (s *seeder) newConvGen() *convGen {
	r := s.stream("conversions")
	return &convGen{s: s, r: r, tl: newTimeline(r, s.first, s.now, s.opts.Conversions)}
}

func (g *convGen) next(ev *convEvent) bool {
	s, r := g.s, g.r
	t, ok := g.tl.next()
	if !ok {
		return false
	}
	*ev = convEvent{t: t, batch: -1}
	ev.aff = s.pick(r, t)
	a := s.affs[ev.aff]
	c := s.camps[a.camp]
	ev.cur = s.saleCurs[pickWeighted(r, s.saleCurW)]
	switch c.kind {
	case kindMonthly:
		ev.typ = conversion.TypeRenewal
		if r.IntN(100) < 35 {
			ev.typ = conversion.TypeSubscription
		}
		ev.amount = s.plans[ev.cur][pickWeighted(r, planWeights)]
	case kindAnnual:
		ev.typ = conversion.TypeSubscription
		ev.amount = s.annualPlans[ev.cur][pickWeighted(r, planWeights)]
	case kindServices:
		ev.typ = conversion.TypeSale
		qty := int64(1)
		if q := r.IntN(100); q >= 95 {
			qty = 3
		} else if q >= 85 {
			qty = 2
		}
		ev.amount = s.products[ev.cur][pickWeighted(r, productWeight)] * qty
	case kindLeads:
		ev.typ, ev.cur, ev.amount = conversion.TypeLead, s.home, 0
	}
	d := s.day(t)
	ev.rate = s.fx.rate(ev.cur, s.home, d)
	if c.typ == campaign.CommissionTypePercentage {
		bps := c.value
		if a.customValue > 0 {
			bps = a.customValue
		}
		ev.commission = mulDivRound(ev.amount, bps, 10000)
	} else {
		ev.commission = convert(c.value, s.home, ev.cur, s.fx.rate(s.home, ev.cur, d))
	}
	ev.homeAmount = convert(ev.amount, ev.cur, s.home, ev.rate)
	ev.homeCommission = convert(ev.commission, ev.cur, s.home, ev.rate)
	if c.sub && a.recruiter >= 0 {
		ev.override = mulDivRound(ev.commission, int64(c.overrideBps), 10000)
	}

	roll := r.IntN(1000)
	review := hour + r.Int64N(7*day-hour)
	refundAfter := day + r.Int64N(29*day)
	isLead := ev.typ == conversion.TypeLead
	switch {
	case a.status == affiliate.StatusBlocked, isLead && roll < 40, !isLead && roll >= 35 && roll < 50:
		ev.status, ev.updated = conversion.StatusDenied, min(t+review, s.now)
	case !isLead && roll < 35 && t+refundAfter <= s.now:
		ev.status, ev.updated = conversion.StatusRefunded, t+refundAfter
	case t+review > s.now:
		ev.status, ev.updated = conversion.StatusPending, t
	default:
		ev.status, ev.approved, ev.updated = conversion.StatusApproved, t+review, t+review
		ev.batch = s.batchFor(a.camp, max(t+s.grace, ev.approved))
		if ev.batch >= 0 {
			b := s.batches[ev.batch]
			ev.updated = b.created
			if b.status == payoutbatch.StatusPaid {
				ev.status, ev.paid, ev.updated = conversion.StatusPaid, b.paid, b.paid
			}
		}
	}

	switch {
	case c.kind == kindLeads:
		ev.leadAt = max(t-5*second-r.Int64N(10*minute), a.approved)
	case ev.typ == conversion.TypeSubscription && r.IntN(100) < 40:
		ev.leadAt = max(t-hour-r.Int64N(14*day), a.approved)
		ev.nExtra = r.IntN(len(ev.extra) + 1)
		for k := range ev.nExtra {
			ev.extra[k] = max(t-r.Int64N(20*day), a.approved)
		}
	}
	return true
}

// payoutSchedule lays out the batches: one paid batch a month for what
// became payable by the 1st, then the current cycle, still in flight: a
// failed batch for one campaign, one processing and one not yet sent.
func (s *seeder) payoutSchedule() {
	r := s.stream("payouts")
	start := tm(s.t0)
	month := time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	for ; ; month = month.AddDate(0, 1, 0) {
		created := month.UnixMilli() + 2*day + 15*hour
		if created > s.now-7*day {
			break
		}
		paid := created + 25*hour + r.Int64N(6*hour)
		s.batches = append(s.batches, &batch{status: payoutbatch.StatusPaid, created: created, paid: paid,
			cutoff: month.UnixMilli(), camp: -1, lineStatus: payoutlineitem.StatusPaid})
	}
	s.paidCount = len(s.batches)
	s.batches = append(s.batches,
		&batch{status: payoutbatch.StatusFailed, created: s.now - 6*day + r.Int64N(hour), camp: failedCampaign,
			failure:        "PayPal Payouts returned INSUFFICIENT_FUNDS: the sending account's balance was too low.",
			lineStatus:     payoutlineitem.StatusFailed,
			lineFailReason: "Not sent: the batch failed."},
		&batch{status: payoutbatch.StatusProcessing, created: s.now - 2*day + r.Int64N(hour), camp: -1,
			lineStatus: payoutlineitem.StatusProcessing},
		&batch{status: payoutbatch.StatusPending, created: s.now - 3*hour + r.Int64N(hour), camp: -1,
			lineStatus: payoutlineitem.StatusPending},
	)
}

// batchFor returns the batch that pays a conversion of campaign ci that
// became payable at payable, or -1 while none has.
func (s *seeder) batchFor(ci int, payable int64) int {
	paid := s.batches[:s.paidCount]
	if i := sort.Search(len(paid), func(i int) bool { return paid[i].cutoff >= payable }); i < len(paid) {
		return i
	}
	for i := s.paidCount; i < len(s.batches); i++ {
		b := s.batches[i]
		if (b.camp < 0 || b.camp == ci) && payable <= b.created {
			return i
		}
	}
	return -1
}

func (s *seeder) planPayouts() error {
	s.payoutSchedule()
	s.lineIDs = map[int64]*line{}
	s.bar.start(s.opts.Conversions)
	g := s.newConvGen()
	var ev convEvent
	n := 0
	for g.next(&ev) {
		if ev.leadAt != 0 {
			s.leadTotal++
		}
		s.leadTotal += ev.nExtra
		if ev.batch >= 0 {
			key := int64(ev.batch)*int64(len(s.affs)) + int64(ev.aff)
			l := s.lineIDs[key]
			if l == nil {
				l = &line{aff: ev.aff}
				s.lineIDs[key] = l
				s.batches[ev.batch].lines = append(s.batches[ev.batch].lines, l)
			}
			l.amount += ev.homeCommission
			l.count++
		}
		if n++; n%10000 == 0 {
			s.bar.add(10000)
		}
	}
	s.bar.add(n % 10000)
	return nil
}

func (s *seeder) seedPayouts() error {
	var batches []*batch
	var lines []*line
	var lineBatch []*batch
	for _, b := range s.batches {
		if len(b.lines) == 0 {
			continue // nothing became payable in its window
		}
		sort.Slice(b.lines, func(i, j int) bool { return b.lines[i].aff < b.lines[j].aff })
		b.id = s.id("pay", b.created)
		for _, l := range b.lines {
			l.id = s.id("pli", b.created)
			b.total += l.amount
			lines = append(lines, l)
			lineBatch = append(lineBatch, b)
		}
		batches = append(batches, b)
	}
	s.bar.start(len(batches) + len(lines))
	home := currencies[s.home].code
	err := insert(s, "payout_batches", len(batches), func(cl *ent.Client, from, to int) error {
		bs := make([]*ent.PayoutBatchCreate, 0, to-from)
		for _, b := range batches[from:to] {
			updated := max(b.created, b.paid)
			c := cl.PayoutBatch.Create().
				SetID(b.id).SetOrgID(s.org.ID).SetCreatedAt(tm(b.created)).SetUpdatedAt(tm(updated)).
				SetStatus(b.status).SetCurrency(home).SetTotalCents(b.total).SetLineCount(len(b.lines)).
				SetNillablePaidAt(tmp(b.paid)).SetNillableFailureReason(strp(b.failure))
			if b.camp >= 0 {
				c.SetCampaignID(s.camps[b.camp].id)
			}
			bs = append(bs, c)
		}
		return cl.PayoutBatch.CreateBulk(bs...).Exec(s.ctx)
	})
	if err != nil {
		return err
	}
	err = insert(s, "payout_line_items", len(lines), func(cl *ent.Client, from, to int) error {
		bs := make([]*ent.PayoutLineItemCreate, 0, to-from)
		for i := from; i < to; i++ {
			l, b := lines[i], lineBatch[i]
			a := s.affs[l.aff]
			paypal := a.paypal
			if paypal == "" {
				paypal = a.email
			}
			bs = append(bs, cl.PayoutLineItem.Create().
				SetID(l.id).SetOrgID(s.org.ID).SetCreatedAt(tm(b.created)).SetUpdatedAt(tm(max(b.created, b.paid))).
				SetBatchID(b.id).SetAffiliateID(a.id).SetStatus(b.lineStatus).SetAmountCents(l.amount).
				SetCurrency(home).SetConversionCount(l.count).SetPaypalEmail(paypal).
				SetNillableFailureReason(strp(b.lineFailReason)))
		}
		return cl.PayoutLineItem.CreateBulk(bs...).Exec(s.ctx)
	})
	if err != nil {
		return err
	}
	s.res.Payouts, s.res.PayoutLines = len(batches), len(lines)
	return nil
}

type leadRow struct {
	id, email, name string
	aff             int
	source          lead.Source
	t               int64
}

type convRow struct {
	id, leadID, lineID              string
	ev                              convEvent
	external, email, name, cus, sub string
}

func (s *seeder) seedConversions() error {
	g := s.newConvGen()
	d := s.stream("conversion-details")
	convLimit, leadLimit := s.limits["conversions"], s.limits["leads"]
	convs := make([]convRow, 0, convLimit)
	leads := make([]leadRow, 0, leadLimit)
	s.bar.start(s.opts.Conversions + s.leadTotal)
	home := currencies[s.home].code
	var leadSeq, seq int64

	flushLeads := func() error {
		err := insert(s, "leads", len(leads), func(cl *ent.Client, from, to int) error {
			bs := make([]*ent.LeadCreate, 0, to-from)
			for _, l := range leads[from:to] {
				a := s.affs[l.aff]
				bs = append(bs, cl.Lead.Create().
					SetID(l.id).SetOrgID(s.org.ID).SetCreatedAt(tm(l.t)).SetUpdatedAt(tm(l.t)).
					SetAffiliateID(a.id).SetCampaignID(s.camps[a.camp].id).
					SetEmail(l.email).SetName(l.name).SetSource(l.source).SetOccurredAt(tm(l.t)))
			}
			return cl.Lead.CreateBulk(bs...).Exec(s.ctx)
		})
		s.res.Leads += len(leads)
		leads = leads[:0]
		return err
	}
	flushConvs := func() error {
		// The leads these conversions point at go first.
		if err := flushLeads(); err != nil {
			return err
		}
		err := insert(s, "conversions", len(convs), func(cl *ent.Client, from, to int) error {
			bs := make([]*ent.ConversionCreate, 0, to-from)
			for i := from; i < to; i++ {
				row := &convs[i]
				ev := &row.ev
				a := s.affs[ev.aff]
				b := cl.Conversion.Create().
					SetID(row.id).SetOrgID(s.org.ID).SetCreatedAt(tm(ev.t)).SetUpdatedAt(tm(ev.updated)).
					SetAffiliateID(a.id).SetCampaignID(s.camps[a.camp].id).SetNillableLeadID(strp(row.leadID)).
					SetType(ev.typ).SetStatus(ev.status).
					SetAmountCents(ev.amount).SetCurrency(currencies[ev.cur].code).SetCommissionCents(ev.commission).
					SetHomeAmountCents(ev.homeAmount).SetHomeCommissionCents(ev.homeCommission).
					SetHomeCurrency(home).SetFxRate(float64(ev.rate) / 1e6).
					SetOverrideCommissionCents(ev.override).SetExternalID(row.external).
					SetCustomerEmail(row.email).SetCustomerName(row.name).
					SetNillableStripeCustomerID(strp(row.cus)).SetNillableStripeSubscriptionID(strp(row.sub)).
					SetNillablePayoutLineItemID(strp(row.lineID)).SetOccurredAt(tm(ev.t)).
					SetNillableApprovedAt(tmp(ev.approved)).SetNillablePaidAt(tmp(ev.paid))
				if ev.override > 0 {
					b.SetOverrideAffiliateID(s.affs[a.recruiter].id)
				}
				bs = append(bs, b)
			}
			return cl.Conversion.CreateBulk(bs...).Exec(s.ctx)
		})
		s.res.Conversions += len(convs)
		convs = convs[:0]
		return err
	}
	// person makes a customer's name and, for a sign-up, an address unique
	// in its campaign (the lead's key) from the running lead number.
	person := func(unique bool) (name, email string) {
		first, last := firstNames[d.IntN(len(firstNames))], lastNames[d.IntN(len(lastNames))]
		domain := emailDomains[d.IntN(len(emailDomains))]
		local := strings.ToLower(first + "." + last)
		if unique {
			leadSeq++
			local += strconv.FormatInt(leadSeq, 10)
		} else if d.IntN(2) == 0 {
			local += strconv.Itoa(d.IntN(100))
		}
		return first + " " + last, local + "@" + domain
	}
	addLead := func(ai int, t int64, name, email string, sources []lead.Source) (string, error) {
		if len(leads) == leadLimit {
			if err := flushLeads(); err != nil {
				return "", err
			}
		}
		id := s.id("led", t)
		leads = append(leads, leadRow{id: id, email: email, name: name, aff: ai,
			source: sources[d.IntN(len(sources))], t: t})
		return id, nil
	}
	bountySources := []lead.Source{lead.SourcePixel, lead.SourcePixel, lead.SourcePixel, lead.SourceApi, lead.SourceApi, lead.SourceManual, lead.SourceMcp}
	trialSources := []lead.Source{lead.SourceStripe, lead.SourceStripe, lead.SourcePixel, lead.SourcePixel, lead.SourceApi, lead.SourcePaddle}
	lostSources := []lead.Source{lead.SourcePixel, lead.SourcePixel, lead.SourceApi, lead.SourceManual}

	var ev convEvent
	for g.next(&ev) {
		row := convRow{ev: ev, id: s.id("cnv", ev.t)}
		if ev.leadAt != 0 {
			sources := trialSources
			if ev.typ == conversion.TypeLead {
				sources = bountySources
			}
			row.name, row.email = person(true)
			id, err := addLead(ev.aff, ev.leadAt, row.name, row.email, sources)
			if err != nil {
				return err
			}
			row.leadID = id
		} else {
			row.name, row.email = person(false)
		}
		for k := range ev.nExtra {
			name, email := person(true)
			if _, err := addLead(ev.aff, ev.extra[k], name, email, lostSources); err != nil {
				return err
			}
		}
		// external_id: a processor-like prefix, a time-ordered part so the
		// unique index grows at its end, randomness, and the run and sequence
		// numbers that make it unique in the organization.
		seq++
		prefix := "in"
		switch p := d.IntN(100); {
		case ev.typ == conversion.TypeLead:
			prefix = "lead"
		case p < 60:
			row.cus = "cus_" + randString(d, alnum, 14)
			if ev.typ != conversion.TypeSale {
				row.sub = "sub_1" + randString(d, alnum, 23)
			}
		case p < 80:
			prefix = "txn"
		default:
			prefix = "ord"
		}
		row.external = prefix + "_1" + base62(ev.t, 8) + randString(d, alnum, 6) +
			strconv.FormatUint(uint64(s.run)<<40|uint64(seq), 36)
		if ev.batch >= 0 {
			row.lineID = s.lineIDs[int64(ev.batch)*int64(len(s.affs))+int64(ev.aff)].id
		}
		convs = append(convs, row)
		if len(convs) == convLimit {
			if err := flushConvs(); err != nil {
				return err
			}
		}
	}
	return flushConvs()
}

// audit records the seeding in the organization's audit log, so anyone
// looking at the data can tell it is made up and how to make it again.
func (s *seeder) audit() error {
	c, err := s.w.c()
	if err != nil {
		return err
	}
	err = c.AuditLogEntry.Create().
		SetID(s.id("aud", s.now)).SetOrgID(s.org.ID).SetCreatedAt(tm(s.now)).SetUpdatedAt(tm(s.now)).
		SetActorType(auditlogentry.ActorTypeSystem).SetAction("demo.seeded").
		SetEntityType("Organization").SetEntityID(s.org.ID).
		SetAfter(map[string]any{
			"seed": s.opts.Seed, "run": s.run, "now": s.opts.Now.Format(time.RFC3339Nano),
			"campaigns": s.res.Campaigns, "affiliates": s.res.Affiliates, "clicks": s.res.Clicks,
			"leads": s.res.Leads, "conversions": s.res.Conversions, "payouts": s.res.Payouts,
			"payout_lines": s.res.PayoutLines, "coupons": s.res.Coupons,
		}).Exec(s.ctx)
	if err != nil {
		return fmt.Errorf("demo: writing the audit log: %w", err)
	}
	return s.w.commit()
}
