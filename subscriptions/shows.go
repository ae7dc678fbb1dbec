package subscriptions

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/discoveryevent"
	"github.com/tandemhq/tandem/ent/schema/rule"
	"github.com/tandemhq/tandem/ent/show"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/ent/swipe"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/subscriptions/catalog"
	"github.com/tandemhq/tandem/viewer"
)

// checkSource validates a source label (1–64 characters).
func checkSource(field, source string) (string, error) {
	s := strings.TrimSpace(source)
	if s == "" || len(s) > 64 {
		return "", fault.Invalid(field, "must be 1–64 characters naming where it happened, e.g. netflix-swipe-deck")
	}
	return s, nil
}

// MaxTitleLength is the longest show title RecordSwipe accepts, in characters.
const MaxTitleLength = 120

// checkTitle cleans a show title: whitespace runs become one space, and a
// title with control characters (line breaks and tabs included: a title is
// one line) or longer than MaxTitleLength is refused.
// Titles are shared text (see TopShows), so they stay short and printable.
func checkTitle(raw string) (title, normalized string, err error) {
	for _, r := range raw {
		if unicode.IsControl(r) {
			return "", "", fault.Invalid("title", "must not contain control characters (%U): send the show's name as plain text", r)
		}
	}
	title = strings.Join(strings.Fields(raw), " ")
	normalized = truncate(catalog.Normalize(title), 200)
	switch n := utf8.RuneCountInString(title); {
	case title == "" || normalized == "":
		return "", "", fault.Invalid("title", "must name the show, with letters or digits")
	case n > MaxTitleLength:
		return "", "", fault.Invalid("title", "must be at most %d characters; got %d (send the show's name only)", MaxTitleLength, n)
	}
	return title, normalized, nil
}

// RecordSwipe records the viewer's like or pass on a show. The show is
// matched by normalized title and created (as the system: titles are
// shared) the first time anyone swipes on it; swiping the same show again
// changes the viewer's one swipe.
func (s Service) RecordSwipe(ctx context.Context, client *ent.Client, in RecordSwipeInput) (*ent.Swipe, error) {
	title, norm, err := checkTitle(in.Title)
	if err != nil {
		return nil, err
	}
	source, err := checkSource("source", in.Source)
	if err != nil {
		return nil, err
	}
	var providerKey string
	if in.Provider != nil && strings.TrimSpace(*in.Provider) != "" {
		p, ok := catalog.Lookup(*in.Provider)
		if !ok {
			return nil, fault.Invalid("provider", "%q is not a service Kordi knows: pass a name such as Netflix, or omit it", *in.Provider)
		}
		providerKey = p.Key
	}
	if err := rule.RequirePerson(ctx); err != nil {
		return nil, err
	}
	// Shows are shared: the system adds the title (once, whoever races to
	// it first) and fills in its service when it was unknown.
	sys := rule.AsSystem(ctx)
	create := client.Show.Create().SetTitle(title).SetNormalizedTitle(norm)
	if providerKey != "" {
		create.SetProviderKey(providerKey)
	}
	if err := create.OnConflictColumns(show.FieldNormalizedTitle).Ignore().Exec(sys); err != nil {
		return nil, err
	}
	sh, err := client.Show.Query().Where(show.NormalizedTitle(norm)).Only(ctx)
	if err != nil {
		return nil, err
	}
	if sh.ProviderKey == "" && providerKey != "" {
		if err := client.Show.UpdateOneID(sh.ID).SetProviderKey(providerKey).Exec(sys); err != nil {
			return nil, err
		}
	}
	err = client.Swipe.Create().SetShowID(sh.ID).SetLiked(in.Liked).SetSource(source).
		OnConflictColumns(swipe.FieldUserID, swipe.FieldShowID).
		Update(func(u *ent.SwipeUpsert) { u.UpdateLiked().UpdateSource().UpdateUpdatedAt() }).
		Exec(ctx)
	if err != nil {
		return nil, err
	}
	return client.Swipe.Query().Where(swipe.ShowID(sh.ID)).Only(ctx)
}

// RecordDiscovery records that the viewer discovered something through a
// source. A subjectId must be one of the viewer's subscriptions (kind
// subscription) or a known show (kind show).
func (s Service) RecordDiscovery(ctx context.Context, client *ent.Client, in RecordDiscoveryInput) (*ent.DiscoveryEvent, error) {
	if err := discoveryevent.KindValidator(in.Kind); err != nil {
		return nil, fault.Invalid("kind", "must be subscription or show; got %q", in.Kind)
	}
	source, err := checkSource("source", in.Source)
	if err != nil {
		return nil, err
	}
	if err := rule.RequirePerson(ctx); err != nil {
		return nil, err
	}
	c := client.DiscoveryEvent.Create().SetKind(in.Kind).SetSource(source)
	if in.SubjectID != nil && *in.SubjectID != "" {
		id := *in.SubjectID
		switch in.Kind {
		case discoveryevent.KindSubscription:
			if _, err := get(ctx, client, "subjectId", id); err != nil {
				return nil, err
			}
		case discoveryevent.KindShow:
			ok, err := client.Show.Query().Where(show.ID(id)).Exist(ctx)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fault.NotFound("subjectId", "show %q not found: record a swipe on it first, or omit subjectId", id)
			}
		}
		c.SetSubjectID(id)
	}
	return c.Save(ctx)
}

// showTally is one show's swipes, as the leaderboard's GROUP BY scans them.
type showTally struct {
	ShowID string `json:"show_id"`
	Swipes int    `json:"swipes"`
	Likes  int    `json:"likes"`
}

// MinDistinctSwipers is how many different people must have swiped on a
// show before TopShows ranks it. The leaderboard is read by everyone's
// agents: a show only one or two people swiped on would reveal what they
// watch (k-anonymity), and its title, text a person typed, would reach
// other people's agents verbatim, a channel for anything at all. Three
// people naming the same show (by normalized title) make it a show, not
// one person's text. A person swipes a show once (unique user, show), so
// a show's swipe count is its number of distinct swipers.
const MinDistinctSwipers = 3

// TopShows is the cross-person leaderboard: shows with at least
// MinDistinctSwipers swipers, by likes, then swipes, then title. It reads
// every person's swipes as the system, so it returns aggregates only:
// never who swiped.
func (s Service) TopShows(ctx context.Context, client *ent.Client, limit *int) ([]*ShowRank, error) {
	n := 10
	if limit != nil {
		n = *limit
	}
	if n < 1 || n > 50 {
		return nil, fault.Invalid("limit", "must be between 1 and 50; got %d", n)
	}
	if err := rule.RequirePerson(ctx); err != nil {
		if v := viewer.FromContext(ctx); v == nil || !v.Admin {
			return nil, err
		}
	}
	sys := rule.AsSystem(ctx)
	var groups []showTally
	err := client.Swipe.Query().GroupBy(swipe.FieldShowID).Aggregate(
		ent.As(ent.Count(), "swipes"),
		func(sel *sql.Selector) string {
			return sql.As("SUM(CASE WHEN "+sel.C(swipe.FieldLiked)+" THEN 1 ELSE 0 END)", "likes")
		},
	).Scan(sys, &groups)
	if err != nil {
		return nil, err
	}
	groups = slices.DeleteFunc(groups, func(g showTally) bool { return g.Swipes < MinDistinctSwipers })
	slices.SortFunc(groups, func(a, b showTally) int {
		return cmp.Or(cmp.Compare(b.Likes, a.Likes), cmp.Compare(b.Swipes, a.Swipes))
	})
	// Titles break ties, so load every show tied with the last one shown.
	cut := len(groups)
	if cut > n {
		last := groups[n-1]
		cut = n
		for cut < len(groups) && groups[cut].Likes == last.Likes && groups[cut].Swipes == last.Swipes {
			cut++
		}
	}
	groups = groups[:cut]
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.ShowID
	}
	shows, err := client.Show.Query().Where(show.IDIn(ids...)).All(sys)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*ent.Show, len(shows))
	for _, sh := range shows {
		byID[sh.ID] = sh
	}
	out := make([]*ShowRank, 0, len(groups))
	for _, g := range groups {
		sh := byID[g.ShowID]
		if sh == nil {
			continue
		}
		r := &ShowRank{Title: sh.Title, Likes: g.Likes, Swipes: g.Swipes}
		if g.Swipes > 0 {
			r.LikeRate = float64(g.Likes) / float64(g.Swipes)
		}
		if sh.ProviderKey != "" {
			k := sh.ProviderKey
			r.Provider = &k
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b *ShowRank) int {
		return cmp.Or(cmp.Compare(b.Likes, a.Likes), cmp.Compare(b.Swipes, a.Swipes), cmp.Compare(a.Title, b.Title))
	})
	if len(out) > n {
		out = out[:n]
	}
	for i, r := range out {
		r.Rank = i + 1
	}
	return out, nil
}

// ErrAdminOnly refuses the whole-database analytics to anyone but a Tandem
// operator.
var ErrAdminOnly = &fault.Error{Kind: fault.KindForbidden, Reason: "admin_required",
	Message: "the Subscriptions analytics are for Tandem operators (admins) only: an operator grants access with `tandem user grant-admin --email <email>`; then get a fresh token or sign in again"}

// Analytics are the whole-database aggregates: people, subscriptions,
// swipes, the like rate and discovery volume by source. Admins only; it
// reads across everyone as the system, and returns counts only.
func (s Service) Analytics(ctx context.Context, client *ent.Client) (*SubscriptionAnalytics, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return nil, rule.ErrNoViewer
	}
	if !v.Admin {
		return nil, ErrAdminOnly
	}
	sys := rule.AsSystem(ctx)
	a := &SubscriptionAnalytics{GeneratedAt: s.now(), DiscoveryBySource: []*SourceCount{}}
	var err error
	counts := []struct {
		dst *int
		q   func() (int, error)
	}{
		{&a.Users, func() (int, error) { return client.User.Query().Count(sys) }},
		{&a.ShadowUsers, func() (int, error) {
			return client.User.Query().Where(user.ProvisionedBySourceIDNotNil(), user.ClaimedAtIsNil()).Count(sys)
		}},
		{&a.ClaimedUsers, func() (int, error) {
			return client.User.Query().Where(user.ProvisionedBySourceIDNotNil(), user.ClaimedAtNotNil()).Count(sys)
		}},
		{&a.Subscriptions, func() (int, error) {
			return client.Subscription.Query().Where(subscription.StatusNEQ(subscription.StatusCancelled)).Count(sys)
		}},
		{&a.Swipes, func() (int, error) { return client.Swipe.Query().Count(sys) }},
		{&a.Likes, func() (int, error) { return client.Swipe.Query().Where(swipe.Liked(true)).Count(sys) }},
	}
	for _, c := range counts {
		if *c.dst, err = c.q(); err != nil {
			return nil, err
		}
	}
	if a.Swipes > 0 {
		a.LikeRate = float64(a.Likes) / float64(a.Swipes)
	}
	var bySource []struct {
		Source string `json:"source"`
		Count  int    `json:"count"`
	}
	if err := client.DiscoveryEvent.Query().GroupBy(discoveryevent.FieldSource).
		Aggregate(ent.Count()).Scan(sys, &bySource); err != nil {
		return nil, err
	}
	for _, b := range bySource {
		a.DiscoveryBySource = append(a.DiscoveryBySource, &SourceCount{Source: b.Source, Count: b.Count})
	}
	slices.SortFunc(a.DiscoveryBySource, func(x, y *SourceCount) int {
		return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Source, y.Source))
	})
	return a, nil
}
