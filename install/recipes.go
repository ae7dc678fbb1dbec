package install

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tandemhq/tandem/fault"
)

// The install recipes are content, not code: one JSON file per platform in
// recipes/, plus recipes/_fallback.json, the generic recipe for a platform
// without one of its own. They are embedded in the binary and validated when
// the package loads, so a malformed entry stops startup (and fails the tests)
// instead of reaching a user half-written.
//
//go:embed recipes/*.json
var recipeFiles embed.FS

// The categories a platform belongs to.
const (
	RecipeCategoryEcommerce      = "ecommerce"
	RecipeCategoryWebsiteBuilder = "website-builder"
	RecipeCategoryPayments       = "payments"
	RecipeCategoryCoursePlatform = "course-platform"
	RecipeCategoryMembership     = "membership"
	RecipeCategoryFramework      = "framework"
	RecipeCategoryCMS            = "cms"
)

// RecipeCategories lists every category a platform may have.
var RecipeCategories = []string{
	RecipeCategoryEcommerce, RecipeCategoryWebsiteBuilder, RecipeCategoryPayments,
	RecipeCategoryCoursePlatform, RecipeCategoryMembership, RecipeCategoryFramework, RecipeCategoryCMS,
}

// The ways a sale reaches Tandem (a recipe's conversionFire).
const (
	// RecipeFireStripeWebhook: the org connected Stripe (Stripe Connect) and
	// Tandem reads the sale from Stripe's webhooks.
	RecipeFireStripeWebhook = "stripe-webhook"
	// RecipeFirePaddleWebhook: Paddle Billing notifications carry the sale.
	RecipeFirePaddleWebhook = "paddle-webhook"
	// RecipeFirePixel: the browser reports the sale with tandem.conversion on
	// the thank-you page; needs the org's pixel public key.
	RecipeFirePixel = "pixel"
	// RecipeFireS2SAPI: the brand's server posts the sale to /api/v1 with an
	// rk_live_ key and an rks_ signature.
	RecipeFireS2SAPI = "s2s-api"
	// RecipeFireCoupon: the buyer's discount code names the affiliate.
	RecipeFireCoupon = "coupon"
)

// RecipeConversionFires lists every conversionFire a platform may have.
var RecipeConversionFires = []string{
	RecipeFireStripeWebhook, RecipeFirePaddleWebhook, RecipeFirePixel, RecipeFireS2SAPI, RecipeFireCoupon,
}

// The generic fallback recipe is not one platform: it says so with a category
// and a conversionFire no platform uses.
const (
	RecipeFallbackCategory       = "other"
	RecipeFallbackConversionFire = "any"
)

// RecipePlatformKeyMaxLen bounds the platformKey a caller may pass.
const RecipePlatformKeyMaxLen = 64

// RecipePublicURLToken in a recipe's text is replaced by Tandem's public base
// URL (no trailing slash), so a step can show the real snippet address.
const RecipePublicURLToken = "{PUBLIC_URL}"

// InstallPlatform is one platform Tandem has an install recipe for: what
// list_install_platforms returns, enough to map "I use Webflow" to a key.
type InstallPlatform struct {
	PlatformKey           string
	DisplayName           string
	Category              string
	ConversionFire        string
	RequiresStripeConnect bool
	RequiresAPIKey        bool
}

// InstallRecipeStep is one ordered step of a recipe.
type InstallRecipeStep struct {
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// InstallRecipe is the full recipe for one platform, or the generic fallback
// (Fallback true) for a key the registry does not know.
type InstallRecipe struct {
	PlatformKey           string
	DisplayName           string
	Category              string
	ConversionFire        string
	RequiresStripeConnect bool
	RequiresAPIKey        bool
	// DocsURL is the recipe's page in Tandem's docs: {public URL}/docs/install/{key}.
	DocsURL string
	// VendorDocsURL is the platform's own developer docs, when the recipe names one.
	VendorDocsURL      *string
	Steps              []InstallRecipeStep
	Gotchas            []string
	ConversionFirePath string
	Fallback           bool
}

// Platform is the recipe's summary row.
func (r *InstallRecipe) Platform() InstallPlatform {
	return InstallPlatform{
		PlatformKey: r.PlatformKey, DisplayName: r.DisplayName, Category: r.Category,
		ConversionFire: r.ConversionFire, RequiresStripeConnect: r.RequiresStripeConnect,
		RequiresAPIKey: r.RequiresAPIKey,
	}
}

// recipeEntry is one recipe file as written.
type recipeEntry struct {
	PlatformKey           string              `json:"platformKey"`
	DisplayName           string              `json:"displayName"`
	Aliases               []string            `json:"aliases"`
	Category              string              `json:"category"`
	ConversionFire        string              `json:"conversionFire"`
	RequiresStripeConnect bool                `json:"requiresStripeConnect"`
	RequiresAPIKey        bool                `json:"requiresApiKey"`
	VendorDocsURL         string              `json:"vendorDocsURL"`
	Steps                 []InstallRecipeStep `json:"steps"`
	Gotchas               []string            `json:"gotchas"`
	ConversionFirePath    string              `json:"conversionFirePath"`
}

// RecipeRegistry holds the validated recipes. It is read-only once loaded
// and safe for concurrent use.
type RecipeRegistry struct {
	recipes   map[string]*recipeEntry // by platformKey
	lookup    map[string]string       // normalized key, alias or display name → platformKey
	platforms []InstallPlatform       // sorted by display name
	fallback  *recipeEntry
}

// recipeFallbackFile is the generic recipe's file name in a recipe directory.
const recipeFallbackFile = "_fallback.json"

var (
	recipeKeyPattern         = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	recipePlaceholderPattern = regexp.MustCompile(`\{[A-Z][A-Z0-9_]*\}`)
)

// defaultRecipes is the embedded registry. A malformed recipe panics here, at
// program start, with a message naming the file and the problem.
var defaultRecipes = func() *RecipeRegistry {
	sub, err := fs.Sub(recipeFiles, "recipes")
	if err != nil {
		panic(err)
	}
	reg, err := LoadRecipeRegistry(sub)
	if err != nil {
		panic("install: the embedded install recipes are invalid: " + err.Error())
	}
	return reg
}()

// Recipes returns the registry embedded in the binary.
func Recipes() *RecipeRegistry { return defaultRecipes }

// LoadRecipeRegistry reads and validates every *.json file at the top of
// fsys: one file per platform, named after its platformKey, and
// _fallback.json, the generic recipe. Any problem is an error naming the file.
func LoadRecipeRegistry(fsys fs.FS) (*RecipeRegistry, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	reg := &RecipeRegistry{recipes: map[string]*recipeEntry{}, lookup: map[string]string{}}
	var errs []error
	for _, name := range names {
		e, err := readRecipeEntry(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if name == recipeFallbackFile {
			if err := e.validateFallback(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			reg.fallback = e
			continue
		}
		if err := e.validate(strings.TrimSuffix(name, ".json")); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if err := reg.add(e); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	if reg.fallback == nil {
		errs = append(errs, errors.New(recipeFallbackFile+": missing; the generic recipe for unknown platforms is required"))
	}
	if len(reg.recipes) == 0 {
		errs = append(errs, errors.New("no platform recipes found"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, e := range reg.recipes {
		r := e.recipe("", false)
		reg.platforms = append(reg.platforms, r.Platform())
	}
	slices.SortFunc(reg.platforms, func(a, b InstallPlatform) int {
		return cmp.Or(
			cmp.Compare(strings.ToLower(a.DisplayName), strings.ToLower(b.DisplayName)),
			cmp.Compare(a.PlatformKey, b.PlatformKey),
		)
	})
	return reg, nil
}

func readRecipeEntry(fsys fs.FS, name string) (*recipeEntry, error) {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	var e recipeEntry
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("not a valid recipe: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not a valid recipe: text after the recipe object")
	}
	return &e, nil
}

// add indexes e under its key, its aliases and its display name, refusing a
// name another recipe already answers to.
func (reg *RecipeRegistry) add(e *recipeEntry) error {
	if _, dup := reg.recipes[e.PlatformKey]; dup {
		return fmt.Errorf("platformKey %q is used by two recipes", e.PlatformKey)
	}
	reg.recipes[e.PlatformKey] = e
	names := append([]string{e.PlatformKey, e.DisplayName}, e.Aliases...)
	for _, n := range names {
		norm := normalizeRecipeKey(n)
		if owner, taken := reg.lookup[norm]; taken && owner != e.PlatformKey {
			return fmt.Errorf("%q (as %q) already names platform %q", n, norm, owner)
		}
		reg.lookup[norm] = e.PlatformKey
	}
	return nil
}

// validate checks a platform's recipe; stem is its file name without .json.
func (e *recipeEntry) validate(stem string) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if !recipeKeyPattern.MatchString(e.PlatformKey) || len(e.PlatformKey) > RecipePlatformKeyMaxLen {
		bad("platformKey %q must be a lowercase slug (a-z, 0-9, single hyphens) of at most %d characters", e.PlatformKey, RecipePlatformKeyMaxLen)
	}
	if e.PlatformKey != stem {
		bad("platformKey %q must equal the file name %q", e.PlatformKey, stem)
	}
	if !slices.Contains(RecipeCategories, e.Category) {
		bad("category %q must be one of %s", e.Category, strings.Join(RecipeCategories, ", "))
	}
	if !slices.Contains(RecipeConversionFires, e.ConversionFire) {
		bad("conversionFire %q must be one of %s", e.ConversionFire, strings.Join(RecipeConversionFires, ", "))
	}
	// The flags follow from the path, so the list and the recipe never disagree.
	if e.RequiresStripeConnect != (e.ConversionFire == RecipeFireStripeWebhook) {
		bad("requiresStripeConnect must be true exactly when conversionFire is %s", RecipeFireStripeWebhook)
	}
	if e.RequiresAPIKey != (e.ConversionFire == RecipeFireS2SAPI) {
		bad("requiresApiKey must be true exactly when conversionFire is %s", RecipeFireS2SAPI)
	}
	for _, a := range e.Aliases {
		if normalizeRecipeKey(a) == "" {
			bad("alias %q has no letters or digits", a)
		}
	}
	if len(e.Gotchas) == 0 {
		bad("gotchas must list at least one pitfall")
	}
	problems = append(problems, e.validateText()...)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// validateFallback checks the generic recipe, which names no platform.
func (e *recipeEntry) validateFallback() error {
	var problems []string
	if e.PlatformKey != "" || len(e.Aliases) > 0 || e.Category != "" || e.ConversionFire != "" ||
		e.RequiresStripeConnect || e.RequiresAPIKey || e.VendorDocsURL != "" {
		problems = append(problems, "the fallback names no platform: leave platformKey, aliases, category, conversionFire, requires* and vendorDocsURL unset")
	}
	problems = append(problems, e.validateText()...)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// validateText checks what every recipe, the fallback included, must say.
func (e *recipeEntry) validateText() []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if strings.TrimSpace(e.DisplayName) == "" || utf8.RuneCountInString(e.DisplayName) > 60 {
		bad("displayName must be 1 to 60 characters")
	}
	if len(e.Steps) < 3 {
		bad("steps must list at least 3 steps, got %d", len(e.Steps))
	}
	for i, s := range e.Steps {
		if strings.TrimSpace(s.Title) == "" || strings.TrimSpace(s.Detail) == "" {
			bad("step %d needs a title and a detail", i+1)
		}
	}
	for i, g := range e.Gotchas {
		if strings.TrimSpace(g) == "" {
			bad("gotcha %d is empty", i+1)
		}
	}
	if strings.TrimSpace(e.ConversionFirePath) == "" {
		bad("conversionFirePath must say how a sale gets attributed")
	}
	if e.VendorDocsURL != "" {
		if u, err := url.Parse(e.VendorDocsURL); err != nil || u.Scheme != "https" || u.Host == "" {
			bad("vendorDocsURL %q must be an absolute https URL", e.VendorDocsURL)
		}
	}
	texts := []string{e.DisplayName, e.ConversionFirePath}
	texts = append(texts, e.Gotchas...)
	for _, s := range e.Steps {
		texts = append(texts, s.Title, s.Detail)
	}
	for _, t := range texts {
		for _, ph := range recipePlaceholderPattern.FindAllString(t, -1) {
			if ph != RecipePublicURLToken {
				bad("unknown placeholder %s (only %s is replaced)", ph, RecipePublicURLToken)
			}
		}
		if strings.ContainsFunc(t, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) {
			bad("text contains a control character: %.40q", t)
		}
	}
	return problems
}

// recipe renders e for a caller: placeholders filled, slices copied so no
// caller can change the registry.
func (e *recipeEntry) recipe(publicURL string, fallback bool) *InstallRecipe {
	fill := func(s string) string { return strings.ReplaceAll(s, RecipePublicURLToken, publicURL) }
	r := &InstallRecipe{
		PlatformKey: e.PlatformKey, DisplayName: e.DisplayName, Category: e.Category,
		ConversionFire: e.ConversionFire, RequiresStripeConnect: e.RequiresStripeConnect,
		RequiresAPIKey:     e.RequiresAPIKey,
		DocsURL:            publicURL + "/docs/install/" + e.PlatformKey,
		ConversionFirePath: fill(e.ConversionFirePath),
		Fallback:           fallback,
		Steps:              make([]InstallRecipeStep, len(e.Steps)),
		Gotchas:            make([]string, len(e.Gotchas)),
	}
	if e.VendorDocsURL != "" {
		v := e.VendorDocsURL
		r.VendorDocsURL = &v
	}
	for i, s := range e.Steps {
		r.Steps[i] = InstallRecipeStep{Title: fill(s.Title), Detail: fill(s.Detail)}
	}
	for i, g := range e.Gotchas {
		r.Gotchas[i] = fill(g)
	}
	return r
}

// Platforms lists every platform with a recipe, sorted by display name. The
// rows are copies: a caller may change them.
func (reg *RecipeRegistry) Platforms() []*InstallPlatform {
	out := make([]*InstallPlatform, len(reg.platforms))
	for i, p := range reg.platforms {
		out[i] = &p
	}
	return out
}

// Recipe returns the recipe for platformKey, matched case-insensitively and
// ignoring punctuation and spaces, by key, display name or a common alias
// ("woo", "next.js", "wp"). A key no recipe answers to gets the generic
// fallback recipe, with the caller's key echoed back and Fallback set, rather
// than an error. publicURL is Tandem's base URL (no trailing slash); links
// and snippets in the recipe point there.
func (reg *RecipeRegistry) Recipe(platformKey, publicURL string) (*InstallRecipe, error) {
	if err := validateRecipeKey(platformKey); err != nil {
		return nil, err
	}
	publicURL = strings.TrimRight(publicURL, "/")
	if key, ok := reg.lookup[normalizeRecipeKey(platformKey)]; ok {
		return reg.recipes[key].recipe(publicURL, false), nil
	}
	r := reg.fallback.recipe(publicURL, true)
	r.PlatformKey = strings.TrimSpace(platformKey)
	r.Category = RecipeFallbackCategory
	r.ConversionFire = RecipeFallbackConversionFire
	r.DocsURL = publicURL + "/docs/install"
	return r, nil
}

// validateRecipeKey refuses a key no lookup could use.
func validateRecipeKey(platformKey string) error {
	switch {
	case strings.TrimSpace(platformKey) == "":
		return fault.Invalid("platformKey", "must not be empty: pass a platformKey from list_install_platforms, e.g. shopify")
	case utf8.RuneCountInString(platformKey) > RecipePlatformKeyMaxLen:
		return fault.Invalid("platformKey", "must be at most %d characters: pass a platformKey from list_install_platforms, e.g. shopify", RecipePlatformKeyMaxLen)
	case !utf8.ValidString(platformKey) || strings.ContainsFunc(platformKey, unicode.IsControl):
		return fault.Invalid("platformKey", "must be plain text without control characters, e.g. shopify")
	}
	return nil
}

// normalizeRecipeKey folds a platform name to what lookups compare: lowercase
// letters and digits only, so "Next.js", "next-js" and "NEXTJS" agree.
func normalizeRecipeKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}
