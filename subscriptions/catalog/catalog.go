// Package catalog is Tandem's built-in catalog of common consumer
// subscription providers for the Subscriptions product.
//
// It answers two questions. Given a name as a person or a bank statement
// writes it ("NETFLIX.COM", "Spotify USA", "PAYPAL *HULU"), which provider is
// it (Lookup)? And what is the normalized name that ingestion dedupes on
// (Normalize)? Each provider carries the deep links that
// kordi_get_cancellation_route hands back: the provider's own cancellation
// page and its account-management page.
//
// The data lives in providers.json, embedded in the binary. It is checked
// and indexed once, when the package is initialized; a catalog that is not
// valid JSON, repeats a key, or has a name or alias that would match two
// providers panics then, so a bad edit fails every test and every build that
// runs it rather than misrouting a cancellation at run time.
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

//go:embed providers.json
var providersJSON []byte

// Category groups providers by what they sell. The set is fixed: see
// Categories.
type Category string

// The categories, in the order Categories returns them.
const (
	Streaming    Category = "streaming"     // video streaming, live TV and bundles
	Music        Category = "music"         // music and radio
	News         Category = "news"          // newspapers, magazines, newsletters
	CloudStorage Category = "cloud-storage" // cloud storage and backup
	Software     Category = "software"      // productivity software and web services
	AI           Category = "ai"            // AI assistants and tools
	Gaming       Category = "gaming"        // game subscriptions and memberships
	Fitness      Category = "fitness"       // fitness, wellness and meditation
	Food         Category = "food"          // meal kits and delivery memberships
	Dating       Category = "dating"        // dating apps
	Security     Category = "security"      // VPNs, antivirus, password managers
	Shopping     Category = "shopping"      // retail and warehouse memberships, subscription boxes
	Education    Category = "education"     // courses, languages, study help
	Books        Category = "books"         // audiobooks and e-books
	Mobility     Category = "mobility"      // rides, bikes and connected-car plans
	Telecom      Category = "telecom"       // phone, internet and calling services
)

var categories = [...]Category{
	Streaming, Music, News, CloudStorage, Software, AI, Gaming, Fitness,
	Food, Dating, Security, Shopping, Education, Books, Mobility, Telecom,
}

// Categories returns the fixed list of categories, in a stable order. The
// slice is the caller's to keep.
func Categories() []Category { return slices.Clone(categories[:]) }

// Cadence is how often a provider typically bills.
type Cadence string

// The cadences a provider may have.
const (
	Weekly  Cadence = "weekly"
	Monthly Cadence = "monthly"
	Annual  Cadence = "annual"
	Varies  Cadence = "varies" // several billing periods are common
)

var cadences = [...]Cadence{Weekly, Monthly, Annual, Varies}

// Provider is one subscription service.
type Provider struct {
	// Key is the stable identifier: lowercase letters and digits in
	// hyphen-separated words ("disney-plus").
	Key string `json:"key"`
	// Name is the display name ("Disney+").
	Name string `json:"name"`
	// Aliases are other names and bank-statement descriptors that mean this
	// provider and no other ("disney plus", "disneyplus.com").
	Aliases []string `json:"aliases"`
	// Category is one of Categories().
	Category Category `json:"category"`
	// CancelURL is the https page on the provider's own domain where a
	// subscription is cancelled, or its account page when no deeper
	// cancellation page is known.
	CancelURL string `json:"cancelUrl"`
	// AccountURL is the https account or membership page on the
	// provider's own domain.
	AccountURL string `json:"accountUrl"`
	// Cadence is the usual billing period.
	Cadence Cadence `json:"cadence"`
}

func (p Provider) clone() Provider {
	p.Aliases = slices.Clone(p.Aliases)
	return p
}

// ambiguous are normalized descriptors that billing hubs use for many
// products (Apple's "APPLE.COM/BILL" normalizes to "apple"); no provider may
// claim one as an alias, since Lookup would then guess.
var ambiguous = map[string]bool{
	"apple": true, "itunes": true, "apple services": true,
	"amazon": true, "amzn": true, "amzn mktp": true, "amzn mktp us": true,
	"amazon digital": true, "amzn digital": true, "amazon marketplace": true,
	"google": true, "google play": true, "google services": true,
	"microsoft": true, "msft": true, "xbox": true,
	"sony": true, "playstation network": true, "nintendo": true, "steam": true,
	"paypal": true, "adobe": true, "doordash": true, "instacart": true,
	"grubhub": true, "uber": true, "lyft": true, "match group": true,
}

type catalog struct {
	providers []Provider     // sorted by key
	index     map[string]int // normalized key, name or alias -> providers index
}

var std = mustLoad(providersJSON)

func mustLoad(data []byte) *catalog {
	c, err := load(data)
	if err != nil {
		panic("subscriptions/catalog: providers.json: " + err.Error())
	}
	return c
}

var keyRE = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)

// load parses and checks a catalog and builds its index.
func load(data []byte) (*catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ps []Provider
	if err := dec.Decode(&ps); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the array")
	}
	if len(ps) == 0 {
		return nil, errors.New("no providers")
	}
	slices.SortStableFunc(ps, func(a, b Provider) int { return strings.Compare(a.Key, b.Key) })
	c := &catalog{providers: ps, index: make(map[string]int)}
	for i, p := range ps {
		if i > 0 && ps[i-1].Key == p.Key {
			return nil, fmt.Errorf("duplicate key %q", p.Key)
		}
		if err := check(p); err != nil {
			return nil, fmt.Errorf("provider %q: %w", p.Key, err)
		}
		forms := []string{p.Key, p.Name}
		seen := make(map[string]bool)
		for _, a := range p.Aliases {
			if seen[a] {
				return nil, fmt.Errorf("provider %q: alias %q listed twice", p.Key, a)
			}
			seen[a] = true
			forms = append(forms, a)
		}
		for _, f := range forms {
			n := Normalize(f)
			if n == "" {
				return nil, fmt.Errorf("provider %q: %q normalizes to nothing", p.Key, f)
			}
			if ambiguous[n] {
				return nil, fmt.Errorf("provider %q: %q is an ambiguous descriptor (%q)", p.Key, f, n)
			}
			if j, ok := c.index[n]; ok && j != i {
				return nil, fmt.Errorf("%q (%q) maps to both %q and %q", f, n, ps[j].Key, p.Key)
			}
			c.index[n] = i
		}
	}
	return c, nil
}

func check(p Provider) error {
	if !keyRE.MatchString(p.Key) {
		return errors.New("key must be lowercase letters and digits in hyphen-separated words")
	}
	if strings.TrimSpace(p.Name) == "" {
		return errors.New("empty name")
	}
	if !slices.Contains(categories[:], p.Category) {
		return fmt.Errorf("unknown category %q", p.Category)
	}
	if !slices.Contains(cadences[:], p.Cadence) {
		return fmt.Errorf("unknown cadence %q", p.Cadence)
	}
	for field, raw := range map[string]string{"cancelUrl": p.CancelURL, "accountUrl": p.AccountURL} {
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
		if u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.Port() != "" {
			return fmt.Errorf("%s %q: want an https URL with a host and no user or port", field, raw)
		}
	}
	return nil
}

// All returns every provider, sorted by key. The slice and the providers'
// aliases are the caller's to keep.
func All() []Provider {
	out := make([]Provider, len(std.providers))
	for i, p := range std.providers {
		out[i] = p.clone()
	}
	return out
}

// processorPrefix matches a leading payment processor or platform marker that
// bank statements put before the merchant: "PAYPAL *HULU", "SQ *", "GOOGLE
// *YouTube Premium", "PADDLE.NET* ...". The star is required, so "Google One"
// keeps its "Google".
var processorPrefix = regexp.MustCompile(`(?i)^\s*(?:paypal|pp|sq|tst|sp|fs|dri|paddle\.net|paddle|2co\.com|2co|google|goog|wpy|cko|stripe)\s*\*\s*`)

// Lookup finds the provider that name means: its key, its name or one of its
// aliases, compared after Normalize. If that finds nothing and name starts
// with a payment-processor marker ("PAYPAL *", "SQ *", "GOOGLE *", ...), the
// marker is dropped and the rest is looked up the same way. Only exact
// matches after normalization count: Lookup never guesses. The returned
// provider is the caller's to keep.
func Lookup(name string) (Provider, bool) {
	for range 3 {
		if i, ok := std.index[Normalize(name)]; ok {
			return std.providers[i].clone(), true
		}
		// A bank statement line carries noise after the merchant: a phone
		// number, a store number, a state ("NETFLIX.COM 866-579-7172 CA").
		if trimmed := descriptorNoise.ReplaceAllString(name, ""); trimmed != name {
			if i, ok := std.index[Normalize(trimmed)]; ok {
				return std.providers[i].clone(), true
			}
		}
		rest := processorPrefix.ReplaceAllString(name, "")
		if rest == name {
			break
		}
		name = rest
	}
	return Provider{}, false
}

// descriptorNoise matches what card statements append to a merchant's
// name: from the first phone number, store number or long digit run, with
// whatever follows (a city, a state, a country).
var descriptorNoise = regexp.MustCompile(`(?i)\s+(?:\+?\d[\d ().-]{6,}\d|#\s*\d+|\d{4,}|[A-Z]{2}\s*$)(?:\s.*)?$`)
