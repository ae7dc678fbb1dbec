package server_test

// Contract tests of the guest-ingest and link defences: a keyless caller
// cannot pre-hijack an account a partner later fills, a push reports only
// its own subscriptions, duplicates count once, a push into an account the
// caller does not own only adds, any emailed link claims a shadow account,
// and /token neither creates a full account nor floods an inbox.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/credential"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/ent/outboxmessage"
	"github.com/tandemhq/tandem/ent/subscription"
	"github.com/tandemhq/tandem/ent/user"
	"github.com/tandemhq/tandem/ent/usertoken"
	"github.com/tandemhq/tandem/partners"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/subscriptions"
	"github.com/tandemhq/tandem/viewer"
)

func (st *stack) user(t *testing.T, email string) *ent.User {
	t.Helper()
	return st.db.Client.User.Query().Where(user.Email(email)).OnlyX(st.sys)
}

// sub is the person's stored subscription with the normalized name.
func (st *stack) sub(t *testing.T, email, normalized string) *ent.Subscription {
	t.Helper()
	u := st.user(t, email)
	return st.db.Client.Subscription.Query().Where(subscription.UserID(u.ID), subscription.NormalizedName(normalized)).OnlyX(st.sys)
}

// own ingests a subscription as the person themself (the dashboard or their
// AI client would), so it is theirs and no partner's.
func (st *stack) own(t *testing.T, u *ent.User, in subscriptions.IngestInput) *ent.Subscription {
	t.Helper()
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, ActorType: viewer.ActorPerson, ActorID: u.ID})
	res, err := subscriptions.Ingest(ctx, st.db.Client, in, "self")
	if err != nil {
		t.Fatal(err)
	}
	return res.Subscription
}

func TestGuestIngestKeylessCannotPreHijack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := fresh(t, b, nil)
		key := st.partner(t, "acme-bank")
		// Someone without a key types in the person's email first, posing as the bank.
		r := st.ingest(t, "", body("victim@example.com", "acme-bank", `{"name": "Decoy", "amount": 1}`))
		stolen, _ := r.json["token"].(string)
		if r.json["status"] != "created" || stolen == "" {
			t.Fatalf("keyless first push: %s", credential.Scrub(r.body))
		}
		if r := st.relayed(t, stolen); r.status != 200 { // and cached now
			t.Fatalf("keyless token before the partner: %d %s", r.status, r.body)
		}
		// The same unverified label again is the same creator: nothing changes.
		if r := st.ingest(t, "", body("victim@example.com", "acme-bank", `{"name": "Decoy 2", "amount": 1}`)); r.json["status"] != "existing" {
			t.Fatalf("second keyless push: %s", credential.Scrub(r.body))
		}
		if r := st.relayed(t, stolen); r.status != 200 {
			t.Fatalf("keyless token after its own creator's push: %d %s", r.status, r.body)
		}
		// The real partner pushes the person's data: the keyless token dies
		// with it, at once (the cached resolution is forgotten), and the
		// partner gets no token either: the account existed.
		r = st.ingest(t, key, body("victim@example.com", "acme-bank", netflix))
		if r.status != 200 || r.json["status"] != "existing" || strings.Contains(r.body, "token") {
			t.Fatalf("partner push into the keyless shadow: %d %s", r.status, credential.Scrub(r.body))
		}
		if r := st.relayed(t, stolen); r.status != 401 {
			t.Fatalf("keyless token after the real partner's push: %d %s; want 401", r.status, r.body)
		}
		u := st.user(t, "victim@example.com")
		if n := st.db.Client.UserToken.Query().Where(usertoken.UserID(u.ID), usertoken.RevokedAtIsNil()).CountX(st.sys); n != 0 {
			t.Fatalf("%d live tokens after another source's push; want none", n)
		}
		if s := st.sub(t, "victim@example.com", "netflix"); s.AmountCents != 1599 {
			t.Fatalf("the partner's subscription was not imported: %+v", s)
		}
	})
}

func TestGuestIngestAnotherSourceRevokesShadowTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := fresh(t, b, nil)
		acme, other := st.partner(t, "acme-bank"), st.partner(t, "other-app")
		r := st.ingest(t, acme, body("p@example.com", ""))
		partnerToken, _ := r.json["token"].(string)
		// The creator pushing again keeps its token.
		if r := st.ingest(t, acme, body("p@example.com", "")); r.json["status"] != "existing" {
			t.Fatalf("creator's second push: %s", credential.Scrub(r.body))
		}
		if r := st.relayed(t, partnerToken); r.status != 200 {
			t.Fatalf("creator's token after its own push: %d %s", r.status, r.body)
		}
		// A keyless push into the partner's shadow mints nothing and ends the
		// partner-era token: whoever holds it must not read what others send.
		r = st.ingest(t, "", body("p@example.com", "acme-bank", `{"name": "Hulu", "amount": 7.99}`))
		if r.json["status"] != "existing" || strings.Contains(r.body, "token") {
			t.Fatalf("keyless push into a partner's shadow: %s", credential.Scrub(r.body))
		}
		if r := st.relayed(t, partnerToken); r.status != 401 {
			t.Fatalf("partner token after a keyless push: %d; want 401", r.status)
		}
		// Another keyed partner into a fresh shadow does the same.
		r = st.ingest(t, acme, body("q@example.com", ""))
		second, _ := r.json["token"].(string)
		st.ingest(t, other, body("q@example.com", ""))
		if r := st.relayed(t, second); r.status != 401 {
			t.Fatalf("partner token after another partner's push: %d; want 401", r.status)
		}
		// Once claimed, the account is the person's: their own tokens outlive any push.
		st.db.Client.User.Update().Where(user.Email("q@example.com")).SetClaimedAt(st.clk.Now()).ExecX(st.sys)
		mine, err := partners.CreateUserTokenForEmail(context.Background(), st.db.Client, "q@example.com", "mine", st.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		st.ingest(t, "", body("q@example.com", "whoever"))
		if r := st.relayed(t, mine.Token); r.status != 200 {
			t.Fatalf("the person's own token after a push into the claimed account: %d %s", r.status, r.body)
		}
	})
}

func TestGuestIngestDedupesAndReportsOnlyItsOwnTotal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := fresh(t, b, nil)
		key := st.partner(t, "acme-bank")
		// The same service three times (spelled differently): it counts once, the last one wins.
		r := st.ingest(t, key, body("d@example.com", "", netflix, `{"name": "Spotify", "amount": 11.99}`,
			`{"name": "netflix", "amount": 16.99}`, `{"name": "NETFLIX ", "amount": 17.99, "bill_date": 3}`))
		if r.status != 200 || r.json["imported"] != float64(2) || !strings.Contains(r.body, `"total_monthly":29.98`) {
			t.Fatalf("push with duplicates: %d %s; want imported 2, total_monthly 29.98", r.status, credential.Scrub(r.body))
		}
		if s := st.sub(t, "d@example.com", "netflix"); s.AmountCents != 1799 || s.BillDay == nil || *s.BillDay != 3 {
			t.Fatalf("stored netflix = %d day %v; want the last one sent (1799, day 3)", s.AmountCents, s.BillDay)
		}
		msg := st.db.Client.OutboxMessage.Query().Where(outboxmessage.ToAddress("d@example.com")).OnlyX(st.sys)
		if !strings.Contains(msg.TextBody, "2 subscriptions") {
			t.Fatalf("claim email counts the duplicates:\n%s", msg.TextBody)
		}
		// A person with a large bill already: a push learns only its own sum.
		rich := st.db.Client.User.Create().SetEmail("rich@example.com").SaveX(st.sys)
		st.own(t, rich, subscriptions.IngestInput{Name: "Private Jet Club", Amount: 9999})
		r = st.ingest(t, "", body("rich@example.com", "", `{"name": "Hulu", "amount": 7.99}`, `{"name": "hulu", "amount": 8.5}`))
		if r.json["status"] != "existing" || r.json["imported"] != float64(1) || !strings.Contains(r.body, `"total_monthly":8.50`) || strings.Contains(r.body, "9999") {
			t.Fatalf("push into an existing account: %s; want imported 1, total_monthly 8.50 (this request's only)", credential.Scrub(r.body))
		}
		// An error names the item whose values were used: the last of two
		// names that normalize alike (to nothing, here).
		r = st.ingest(t, key, body("e@example.com", "", netflix, `{"name": "!!!", "amount": 1}`, `{"name": "???", "amount": 2}`))
		if r.status != 400 || r.json["field"] != "subscriptions[2].name" {
			t.Fatalf("a refused duplicate: %d %s; want 400 naming subscriptions[2].name", r.status, r.body)
		}
	})
}

func TestGuestIngestAddsOnlyIntoAccountsItDoesNotOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := fresh(t, b, nil)
		acme, other := st.partner(t, "acme-bank"), st.partner(t, "other-app")
		update := `{"name": "Netflix", "amount": 22.99, "bill_date": 28, "trial_end_date": "2027-01-31", "card_network": "amex"}`
		unchanged := func(who, email string, cents int64, status subscription.Status) {
			t.Helper()
			s := st.sub(t, email, "netflix")
			if s.AmountCents != cents || s.BillDay == nil || *s.BillDay != 14 || s.TrialEndDate == nil || *s.TrialEndDate != "2026-07-15" ||
				s.CardNetwork == nil || *s.CardNetwork != subscription.CardNetworkVisa || s.Status != status {
				t.Fatalf("%s rewrote the subscription: amount %d day %v trial %v card %v status %s", who, s.AmountCents, s.BillDay, s.TrialEndDate, s.CardNetwork, s.Status)
			}
		}
		added := func(who, email string) {
			t.Helper()
			if s := st.sub(t, email, "spotify"); s.AmountCents != 1199 {
				t.Fatalf("%s did not add the new subscription: %+v", who, s)
			}
		}
		spotify := `{"name": "Spotify", "amount": 11.99}`

		// A real account, with the person's own (cancelled) subscription.
		real := st.db.Client.User.Create().SetEmail("real@example.com").SaveX(st.sys)
		day, trial, visa := subscriptions.BillDate{Day: 14}, "2026-07-15", subscription.CardNetworkVisa
		own := st.own(t, real, subscriptions.IngestInput{Name: "Netflix", Amount: 15.99, BillDate: &day, TrialEndDate: &trial, CardNetwork: &visa})
		st.db.Client.Subscription.UpdateOne(own).SetStatus(subscription.StatusCancelled).SetCancelledAt(st.clk.Now()).ExecX(st.sys)
		for name, key := range map[string]string{"keyless": "", "keyed partner": acme} {
			if r := st.ingest(t, key, body("real@example.com", "", update, spotify)); r.status != 200 || r.json["status"] != "existing" {
				t.Fatalf("%s push into a real account: %d %s", name, r.status, r.body)
			}
			unchanged(name+" into a real account", "real@example.com", 1599, subscription.StatusCancelled)
			added(name+" into a real account", "real@example.com")
		}

		// A partner's own unclaimed shadow: the partner updates it.
		st.ingest(t, acme, body("own@example.com", "", netflix))
		st.ingest(t, acme, body("own@example.com", "", update))
		if s := st.sub(t, "own@example.com", "netflix"); s.AmountCents != 2299 || s.BillDay == nil || *s.BillDay != 28 {
			t.Fatalf("the creator's push did not update its shadow: amount %d day %v", s.AmountCents, s.BillDay)
		}

		// Someone else's shadow: another partner, or a keyless caller, only adds.
		st.ingest(t, acme, body("theirs@example.com", "", netflix))
		for name, key := range map[string]string{"another partner": other, "keyless": ""} {
			st.ingest(t, key, body("theirs@example.com", "", update, spotify))
			unchanged(name+" into acme's shadow", "theirs@example.com", 1599, subscription.StatusActive)
			added(name+" into acme's shadow", "theirs@example.com")
		}

		// A keyless caller's own shadow: keyless pushes never rewrite.
		st.ingest(t, "", body("guest@example.com", "app", netflix))
		st.ingest(t, "", body("guest@example.com", "app", update))
		unchanged("keyless into its own shadow", "guest@example.com", 1599, subscription.StatusActive)

		// Claimed, the partner's shadow is the person's own.
		st.ingest(t, acme, body("claimed@example.com", "", netflix))
		st.db.Client.User.Update().Where(user.Email("claimed@example.com")).SetClaimedAt(st.clk.Now()).ExecX(st.sys)
		st.ingest(t, acme, body("claimed@example.com", "", update))
		unchanged("the creator into its claimed shadow", "claimed@example.com", 1599, subscription.StatusActive)
	})
}

var signInLink = regexp.MustCompile(`/sign-in/link\?token=([A-Za-z0-9_%-]+)`)

// Signing in by email link proves the address as well as the claim link
// does: it claims a shadow account and ends the partner's tokens at once.
func TestSignInLinkClaimsShadowAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := fresh(t, b, nil)
		key := st.partner(t, "acme-bank")
		r := st.ingest(t, key, body("shadow@example.com", ""))
		partnerToken, _ := r.json["token"].(string)
		if r := st.relayed(t, partnerToken); r.status != 200 {
			t.Fatalf("partner token: %d %s", r.status, r.body)
		}
		gql := func(query string, vars map[string]any) response {
			t.Helper()
			b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
			return st.do(t, http.MethodPost, "/graphql", map[string]string{"Content-Type": "application/json"}, string(b))
		}
		if r := gql(`mutation($e: String!) { requestSignInLink(email: $e) }`, map[string]any{"e": "shadow@example.com"}); strings.Contains(r.body, "errors") {
			t.Fatalf("requestSignInLink: %s", r.body)
		}
		var link string
		for _, m := range st.db.Client.OutboxMessage.Query().Where(outboxmessage.ToAddress("shadow@example.com")).AllX(st.sys) {
			if s := signInLink.FindStringSubmatch(m.TextBody); s != nil {
				link, _ = url.QueryUnescape(s[1])
			}
		}
		if link == "" {
			t.Fatal("no sign-in link was emailed")
		}
		if r := gql(`mutation($t: String!) { signInWithLink(token: $t) { session } }`, map[string]any{"t": link}); strings.Contains(r.body, "errors") {
			t.Fatalf("signInWithLink: %s", r.body)
		}
		u := st.user(t, "shadow@example.com")
		if u.ClaimedAt == nil || u.EmailVerifiedAt == nil {
			t.Fatalf("after signing in by link: %+v; want claimed and verified", u)
		}
		if r := st.relayed(t, partnerToken); r.status != 401 {
			t.Fatalf("partner token after the person signed in by link: %d; want 401", r.status)
		}
	})
}

// Asking /token for a link creates no full account: at most a claimable
// shadow that holds nothing until the link is opened (the per-address cap
// is tested in package partners).
func TestTokenPageCreatesOnlyAClaimableShadow(t *testing.T) {
	st := fresh(t, storetest.Backends(t)[0], nil)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if r := st.do(t, http.MethodPost, "/token", form, "email=New%40Example.com"); r.status != 200 {
		t.Fatalf("asking for a link: %d %s", r.status, r.body)
	}
	u := st.user(t, "new@example.com")
	if u.ProvisionedBySourceID == nil || *u.ProvisionedBySourceID != partners.TokenPageCreator || u.ClaimedAt != nil || u.EmailVerifiedAt != nil {
		t.Fatalf("user after asking = %+v; want an unclaimed, unverified shadow of the /token page", u)
	}
	// A partner's push finds an account (no token), and may only add to it.
	key := st.partner(t, "acme-bank")
	if r := st.ingest(t, key, body("new@example.com", "")); r.json["status"] != "existing" || strings.Contains(r.body, "token") {
		t.Fatalf("push for an address someone asked /token about: %s", credential.Scrub(r.body))
	}
	// Opening the link claims it.
	msg := st.db.Client.OutboxMessage.Query().Where(outboxmessage.ToAddress("new@example.com"), outboxmessage.Kind(partners.MessageTokenLink)).OnlyX(st.sys)
	m := tokenLink.FindStringSubmatch(msg.TextBody)
	link, _ := url.QueryUnescape(m[1])
	if r := st.do(t, http.MethodPost, "/token", form, "t="+url.QueryEscape(link)); r.status != 200 || !shownToken.MatchString(r.body) {
		t.Fatalf("redeeming: %d", r.status)
	}
	if u := st.user(t, "new@example.com"); u.ClaimedAt == nil || u.EmailVerifiedAt == nil {
		t.Fatalf("after redeeming: %+v; want claimed and verified", u)
	}
}
