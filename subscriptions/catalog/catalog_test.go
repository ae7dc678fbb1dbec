package catalog

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/net/publicsuffix"
)

func TestCatalogSize(t *testing.T) {
	if got, want := len(All()), 120; got < want {
		t.Errorf("len(All()) = %d; want at least %d", got, want)
	}
	perCategory := make(map[Category]int)
	for _, p := range All() {
		perCategory[p.Category]++
	}
	for _, c := range Categories() {
		if perCategory[c] == 0 {
			t.Errorf("category %q has no providers", c)
		}
		t.Logf("%-13s %3d", c, perCategory[c])
	}
}

func TestAllSortedAndOwnedByCaller(t *testing.T) {
	ps := All()
	if !slices.IsSortedFunc(ps, func(a, b Provider) int { return strings.Compare(a.Key, b.Key) }) {
		t.Error("All() is not sorted by key")
	}
	ps[0].Name = "changed"
	ps[0].Aliases = append(ps[0].Aliases[:0], "changed")
	if got := All()[0]; got.Name == "changed" || slices.Contains(got.Aliases, "changed") {
		t.Errorf("changing All()'s result changed the catalog: %+v", got)
	}
	p, _ := Lookup("netflix")
	p.Aliases[0] = "changed"
	if got, _ := Lookup("netflix"); slices.Contains(got.Aliases, "changed") {
		t.Errorf("changing Lookup's result changed the catalog: %+v", got)
	}
}

func TestCategories(t *testing.T) {
	got := Categories()
	want := []Category{
		"streaming", "music", "news", "cloud-storage", "software", "ai", "gaming", "fitness",
		"food", "dating", "security", "shopping", "education", "books", "mobility", "telecom",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Categories() = %q; want %q", got, want)
	}
	got[0] = "changed"
	if Categories()[0] != Streaming {
		t.Error("changing Categories()'s result changed the list")
	}
	for _, p := range All() {
		if !slices.Contains(want, p.Category) {
			t.Errorf("%s: category %q is not in Categories()", p.Key, p.Category)
		}
	}
}

// shorteners are link shorteners and redirectors: a cancellation link must
// name the provider's own host.
var shorteners = []string{
	"bit.ly", "t.co", "goo.gl", "tinyurl.com", "ow.ly", "is.gd", "buff.ly", "rebrand.ly",
	"lnkd.in", "amzn.to", "a.co", "youtu.be", "apple.co", "g.co", "aka.ms", "spoti.fi",
	"nyti.ms", "fb.me", "db.tt", "t.ly", "cutt.ly", "shorturl.at", "linktr.ee",
}

// ownerDomains lists the registrable domains that belong to a provider but
// whose name does not appear in the provider's name, key or aliases.
var ownerDomains = map[string][]string{
	"icloud-plus":       {"apple.com"},        // Apple's iCloud+
	"xbox-game-pass":    {"microsoft.com"},    // Microsoft account services
	"nordvpn":           {"nordaccount.com"},  // Nord Security's account portal
	"ea-play":           {"ea.com"},           // Electronic Arts
	"world-of-warcraft": {"battle.net"},       // Blizzard's account site
	"humble-choice":     {"humblebundle.com"}, // Humble Bundle's membership
}

func compact(s string) string { return strings.ReplaceAll(Normalize(s), " ", "") }

// plausiblyOwned reports whether domain (an eTLD+1) plausibly belongs to p:
// its first label is one of p's names, or is contained in one (labels of
// four or more letters), or contains one (names of four or more letters).
func plausiblyOwned(p Provider, domain string) bool {
	if slices.Contains(ownerDomains[p.Key], domain) {
		return true
	}
	label := strings.ReplaceAll(strings.SplitN(domain, ".", 2)[0], "-", "")
	for _, n := range append([]string{p.Key, p.Name}, p.Aliases...) {
		c := compact(n)
		if c == label ||
			len(label) >= 4 && strings.Contains(c, label) ||
			len(c) >= 4 && strings.Contains(label, c) {
			return true
		}
	}
	return false
}

func TestURLs(t *testing.T) {
	for _, p := range All() {
		for field, raw := range map[string]string{"CancelURL": p.CancelURL, "AccountURL": p.AccountURL} {
			u, err := url.Parse(raw)
			if err != nil {
				t.Errorf("%s.%s = %q: %v", p.Key, field, raw, err)
				continue
			}
			if u.Scheme != "https" {
				t.Errorf("%s.%s = %q: scheme %q; want https", p.Key, field, raw, u.Scheme)
			}
			host := u.Hostname()
			if host == "" || u.User != nil || u.Port() != "" {
				t.Errorf("%s.%s = %q: want a bare host", p.Key, field, raw)
				continue
			}
			domain, err := publicsuffix.EffectiveTLDPlusOne(host)
			if err != nil {
				t.Errorf("%s.%s = %q: %v", p.Key, field, raw, err)
				continue
			}
			if slices.Contains(shorteners, domain) {
				t.Errorf("%s.%s = %q: %s is a link shortener", p.Key, field, raw, domain)
			}
			if !plausiblyOwned(p, domain) {
				t.Errorf("%s.%s = %q: %s does not look like %s's own domain", p.Key, field, raw, domain, p.Name)
			}
		}
	}
}

func TestNoDuplicateKeysOrAliases(t *testing.T) {
	keys := make(map[string]bool)
	owner := make(map[string]string) // normalized name or alias -> key
	for _, p := range All() {
		if keys[p.Key] {
			t.Errorf("duplicate key %q", p.Key)
		}
		keys[p.Key] = true
		seen := make(map[string]bool)
		for _, a := range p.Aliases {
			if seen[a] {
				t.Errorf("%s: alias %q listed twice", p.Key, a)
			}
			seen[a] = true
		}
		for _, n := range append([]string{p.Key, p.Name}, p.Aliases...) {
			norm := Normalize(n)
			if other, ok := owner[norm]; ok && other != p.Key {
				t.Errorf("%q (%q) names both %s and %s", n, norm, other, p.Key)
			}
			owner[norm] = p.Key
			if ambiguous[norm] {
				t.Errorf("%s: alias %q is an ambiguous descriptor", p.Key, n)
			}
		}
	}
}

func TestLoadRejects(t *testing.T) {
	const ok = `{"key": "netflix", "name": "Netflix", "aliases": ["nflx"], "category": "streaming", "cancelUrl": "https://www.netflix.com/cancelplan", "accountUrl": "https://www.netflix.com/account", "cadence": "monthly"}`
	entry := func(key, name, alias string) string {
		return strings.NewReplacer(`"netflix"`, `"`+key+`"`, `"Netflix"`, `"`+name+`"`, `"nflx"`, `"`+alias+`"`).Replace(ok)
	}
	for _, tc := range []struct {
		name, data, want string
	}{
		{"not JSON", `[{"key": "netflix",`, "invalid JSON"},
		{"not an array", `{"key": "netflix"}`, "invalid JSON"},
		{"trailing data", "[" + ok + "] []", "data after"},
		{"unknown field", `[{"key": "x", "price": 9}]`, "invalid JSON"},
		{"empty", `[]`, "no providers"},
		{"duplicate key", "[" + ok + "," + entry("netflix", "Other", "other") + "]", `duplicate key "netflix"`},
		{"alias of another provider", "[" + ok + "," + entry("hulu", "Hulu", "NFLX") + "]", `maps to both`},
		{"alias equal to another's name", "[" + ok + "," + entry("hulu", "Hulu", "Netflix, Inc.") + "]", `maps to both`},
		{"alias listed twice", "[" + strings.Replace(ok, `["nflx"]`, `["nflx", "nflx"]`, 1) + "]", "listed twice"},
		{"ambiguous alias", "[" + strings.Replace(ok, `"nflx"`, `"APPLE.COM/BILL"`, 1) + "]", "ambiguous"},
		{"bad key", "[" + entry("Net Flix", "Netflix", "nflx") + "]", "key must be"},
		{"unknown category", "[" + strings.Replace(ok, `"streaming"`, `"movies"`, 1) + "]", "unknown category"},
		{"unknown cadence", "[" + strings.Replace(ok, `"monthly"`, `"daily"`, 1) + "]", "unknown cadence"},
		{"http URL", "[" + strings.Replace(ok, `https://www.netflix.com/cancelplan`, `http://www.netflix.com/cancelplan`, 1) + "]", "https URL"},
		{"no host", "[" + strings.Replace(ok, `https://www.netflix.com/account`, `https:///account`, 1) + "]", "https URL"},
		{"empty alias", "[" + strings.Replace(ok, `"nflx"`, `"--"`, 1) + "]", "normalizes to nothing"},
	} {
		_, err := load([]byte(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: load error = %v; want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := load([]byte("[" + ok + "]")); err != nil {
		t.Errorf("load of a valid catalog: %v", err)
	}
}

func TestMustLoadPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Error("mustLoad of a catalog with a duplicate key did not panic")
		}
	}()
	const e = `{"key": "a", "name": "A", "aliases": [], "category": "music", "cancelUrl": "https://a.example/", "accountUrl": "https://a.example/", "cadence": "monthly"}`
	mustLoad([]byte("[" + e + "," + e + "]"))
}

func TestEmbeddedCatalogLoads(t *testing.T) {
	c, err := load(providersJSON)
	if err != nil {
		t.Fatalf("load(providers.json): %v", err)
	}
	if got, want := len(c.providers), len(std.providers); got != want {
		t.Errorf("reloaded %d providers; init loaded %d", got, want)
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Netflix", "netflix"},
		{"NETFLIX.COM", "netflix"},
		{"www.netflix.com", "netflix"},
		{"Netflix, Inc.", "netflix"},
		{"  Netflix   Monthly  ", "netflix"},
		{"Spotify AB", "spotify"},
		{"Spotify USA", "spotify usa"}, // geography is not noise; the alias covers it
		{"Disney+", "disney plus"},
		{"Disney Plus", "disney plus"},
		{"Disney+ Subscription", "disney plus"},
		{"YouTube Premium", "youtube premium"}, // tiers are kept
		{"YouTube", "youtube"},
		{"iCloud+", "icloud plus"},
		{"Apple TV+", "apple tv plus"},
		{"The New York Times", "new york times"},
		{"The", "the"},
		{"Costco Membership Fee", "costco"},
		{"Membership", "membership"}, // the last word stays
		{"Sam's Club", "sams club"},
		{"Sam’s Club", "sams club"},
		{"Barnes & Noble", "barnes and noble"},
		{"NordVPN S.A.", "nordvpn"},
		{"Foo L.L.C.", "foo"},
		{"H.B.O. Max", "hbo max"},
		{"Crème Brûlée Club", "creme brulee club"},
		{"Straße", "strasse"},
		{"ＮＥＴＦＬＩＸ", "netflix"},
		{"ﬁnance", "finance"},
		{"Zoom.us", "zoom"},
		{"amazon.co.uk", "amazon"},
		{"Hulu.com/bill", "hulu"},
		{"OPENAI *CHATGPT SUBSCR", "openai chatgpt"},
		{"Canva Pty Ltd", "canva"},
		{"T-Mobile", "t mobile"},
		{"1Password", "1password"},
		{"Ångström 2000", "angstrom 2000"},
		{"東京 ストリーム", "東京 ストリーム"},
		{".com", "com"},
		{".US.COM", "us"},
		{"", ""},
		{"  ", ""},
		{"*-*", ""},
	} {
		if got := Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func checkNormalize(t *testing.T, in string) {
	t.Helper()
	once := Normalize(in)
	if twice := Normalize(once); twice != once {
		t.Errorf("Normalize(%q) = %q, but Normalize(%q) = %q", in, once, once, twice)
	}
	if once != strings.TrimSpace(once) || strings.Contains(once, "  ") {
		t.Errorf("Normalize(%q) = %q: stray spaces", in, once)
	}
	if once == "" && strings.IndexFunc(in, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) >= 0 {
		t.Errorf("Normalize(%q) is empty for a name with letters or digits", in)
	}
}

func TestNormalizeIdempotent(t *testing.T) {
	inputs := []string{"ͺ", "ͺ.COM", "İstanbul", "ǅungla", "Ⅻ Club", "①②", "x l l c", "t h e x", "the llc the", "the inc", "a+b", "\xff\xfeNetflix"}
	for _, p := range All() {
		inputs = append(inputs, p.Key, p.Name, strings.ToUpper(p.Name))
		inputs = append(inputs, p.Aliases...)
	}
	for _, in := range inputs {
		checkNormalize(t, in)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Netflix, Inc.", "PAYPAL *HULU", "Disney+", "ͺ", "İ", ".us.com", "L.L.C.", "Crème", "ﬃ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkNormalize(t, in)
		Lookup(in) // must not panic
	})
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"NETFLIX.COM", "netflix"},
		{"netflix", "netflix"},
		{"Spotify USA", "spotify"},
		{"SPOTIFY AB", "spotify"},
		{"Disney+", "disney-plus"},
		{"Disney Plus", "disney-plus"},
		{"disney-plus", "disney-plus"},
		{"HBO Max", "hbo-max"},
		{"Max", "hbo-max"},
		{"YouTube Premium", "youtube-premium"},
		{"GOOGLE *YouTube Premium", "youtube-premium"},
		{"Google *YouTube TV", "youtube-tv"},
		{"paypal *hulu", "hulu"},
		{"PAYPAL * HULU.COM", "hulu"},
		{"SQ *PELOTON", "peloton"},
		{"Amazon Prime", "amazon-prime"},
		{"ChatGPT Plus", "chatgpt"},
		{"OpenAI", "chatgpt"},
		{"OPENAI *CHATGPT SUBSCR", "chatgpt"},
		{"Adobe Creative Cloud", "adobe-creative-cloud"},
		{"Microsoft 365", "microsoft-365"},
		{"Office 365", "microsoft-365"},
		{"iCloud+", "icloud-plus"},
		{"Dropbox", "dropbox"},
		{"Dropbox, Inc.", "dropbox"},
		{"NYTimes", "nytimes"},
		{"The New York Times", "nytimes"},
		{"New York Times", "nytimes"},
		{"Peloton", "peloton"},
		{"Duolingo", "duolingo"},
		{"Xbox Game Pass", "xbox-game-pass"},
		{"PlayStation Plus", "playstation-plus"},
		{"PS Plus", "playstation-plus"},
		{"NordVPN", "nordvpn"},
		{"Audible", "audible"},
		{"Audible Membership", "audible"},
		{"Google One", "google-one"},
		{"Walmart+", "walmart-plus"},
		{"Costco Membership Fee", "costco"},
	} {
		got, ok := Lookup(tc.in)
		if !ok || got.Key != tc.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q, true", tc.in, got.Key, ok, tc.want)
		}
	}
}

func TestLookupNoMatch(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"APPLE.COM/BILL", // one descriptor for every Apple subscription
		"Apple",
		"Google",
		"AMZN Mktp US",
		"Amazon",
		"Microsoft",
		"PAYPAL *",
		"PayPal",
		"YouTube",            // free; YouTube Premium is the subscription
		"Netflix Hulu",       // no fuzzy matching
		"Spotifyy",           // no fuzzy matching
		"PAYPAL NETFLIX",     // a processor prefix needs its star
		"Joe's Pizza",        // not a subscription
		"STARBUCKS #1234",    // not a subscription
		"Shell Oil 57442",    // not a subscription
		"Costco Whse #0123",  // a warehouse purchase, not the membership
		"Membership",         // noise alone names nothing
		"Premium",            // a tier alone names nothing
		"Subscription Plan",  // noise alone names nothing
		"Google *Play Store", // not Play Pass
	} {
		if got, ok := Lookup(in); ok {
			t.Errorf("Lookup(%q) = %q, true; want no match", in, got.Key)
		}
	}
}

func TestPlausiblyOwned(t *testing.T) {
	get := func(key string) Provider {
		for _, p := range All() {
			if p.Key == key {
				return p
			}
		}
		t.Fatalf("no provider %q", key)
		return Provider{}
	}
	for _, tc := range []struct {
		key, domain string
		want        bool
	}{
		{"netflix", "netflix.com", true},
		{"peloton", "onepeloton.com", true},
		{"factor", "factor75.com", true},
		{"financial-times", "ft.com", true},
		{"icloud-plus", "apple.com", true},
		{"netflix", "truebill.com", false},
		{"netflix", "rocketmoney.com", false},
		{"hulu", "netflix.com", false},
		{"box", "dropbox.com", false},
		{"financial-times", "microsoft.com", false},
		{"nordvpn", "surfshark.com", false},
	} {
		if got := plausiblyOwned(get(tc.key), tc.domain); got != tc.want {
			t.Errorf("plausiblyOwned(%s, %q) = %v; want %v", tc.key, tc.domain, got, tc.want)
		}
	}
}

// Card statements append phone numbers, store numbers and places to the
// merchant; Lookup still finds the provider, and plain names are not bent.
func TestLookupStatementDescriptors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"NETFLIX.COM 866-579-7172 CA", "netflix"},
		{"Spotify USA 877-778-1161 NY", "spotify"},
		{"PAYPAL *HULU 8885550123", "hulu"},
		{"NETFLIX.COM #1234 LOS GATOS CA", "netflix"},
		{"Netflix CA", "netflix"},
	} {
		p, ok := Lookup(tc.in)
		if !ok || p.Key != tc.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tc.in, p.Key, ok, tc.want)
		}
	}
	for _, in := range []string{"866-579-7172", "Corner Bakery 12345", "CA"} {
		if p, ok := Lookup(in); ok {
			t.Errorf("Lookup(%q) = %q; want no provider", in, p.Key)
		}
	}
}
