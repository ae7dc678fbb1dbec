package install_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tandemhq/tandem/fault"
	"github.com/tandemhq/tandem/install"
)

const recipeTestURL = "https://tandem.example"

// The embedded registry holds exactly the 29 platforms the seed promises,
// each a complete recipe whose flags agree with its conversion path.
func TestRecipeRegistryEmbedded(t *testing.T) {
	reg := install.Recipes()
	platforms := reg.Platforms()
	if len(platforms) != 29 {
		t.Fatalf("got %d platforms, want 29", len(platforms))
	}
	seen := map[string]bool{}
	for i, p := range platforms {
		if seen[p.PlatformKey] {
			t.Errorf("platformKey %q listed twice", p.PlatformKey)
		}
		seen[p.PlatformKey] = true
		if i > 0 && strings.ToLower(platforms[i-1].DisplayName) > strings.ToLower(p.DisplayName) {
			t.Errorf("platforms not sorted by displayName: %q before %q", platforms[i-1].DisplayName, p.DisplayName)
		}
		if !slices.Contains(install.RecipeCategories, p.Category) {
			t.Errorf("%s: category %q is not one of %v", p.PlatformKey, p.Category, install.RecipeCategories)
		}
		if !slices.Contains(install.RecipeConversionFires, p.ConversionFire) {
			t.Errorf("%s: conversionFire %q is not one of %v", p.PlatformKey, p.ConversionFire, install.RecipeConversionFires)
		}
		if p.RequiresAPIKey != (p.ConversionFire == install.RecipeFireS2SAPI) {
			t.Errorf("%s: requiresApiKey %v with conversionFire %s; want true exactly for s2s-api", p.PlatformKey, p.RequiresAPIKey, p.ConversionFire)
		}
		if p.RequiresStripeConnect != (p.ConversionFire == install.RecipeFireStripeWebhook) {
			t.Errorf("%s: requiresStripeConnect %v with conversionFire %s; want true exactly for stripe-webhook", p.PlatformKey, p.RequiresStripeConnect, p.ConversionFire)
		}

		r, err := reg.Recipe(p.PlatformKey, recipeTestURL)
		if err != nil {
			t.Fatalf("%s: %v", p.PlatformKey, err)
		}
		if r.Fallback || r.PlatformKey != p.PlatformKey || r.Platform() != *p {
			t.Errorf("%s: recipe %+v does not match its list row %+v", p.PlatformKey, r.Platform(), *p)
		}
		if len(r.Steps) < 3 {
			t.Errorf("%s: %d steps, want at least 3", p.PlatformKey, len(r.Steps))
		}
		if want := recipeTestURL + "/docs/install/" + p.PlatformKey; r.DocsURL != want {
			t.Errorf("%s: docsURL %q, want %q", p.PlatformKey, r.DocsURL, want)
		}
		if strings.TrimSpace(r.ConversionFirePath) == "" || len(r.Gotchas) == 0 {
			t.Errorf("%s: needs a conversionFirePath and gotchas", p.PlatformKey)
		}
		if r.VendorDocsURL != nil && !strings.HasPrefix(*r.VendorDocsURL, "https://") {
			t.Errorf("%s: vendorDocsURL %q is not https", p.PlatformKey, *r.VendorDocsURL)
		}
		for _, text := range recipeTexts(r) {
			if strings.Contains(text, install.RecipePublicURLToken) {
				t.Errorf("%s: placeholder left in %q", p.PlatformKey, text)
			}
		}
	}
	// Every conversion path the seed names has at least one platform.
	for _, fire := range install.RecipeConversionFires {
		if !slices.ContainsFunc(platforms, func(p *install.InstallPlatform) bool { return p.ConversionFire == fire }) {
			t.Errorf("no platform uses conversionFire %s", fire)
		}
	}
	// The seed's install walkthrough depends on these.
	for key, want := range map[string]string{
		"shopify": install.RecipeFireCoupon, "stripe": install.RecipeFireStripeWebhook, "paddle": install.RecipeFirePaddleWebhook,
		"gumroad": install.RecipeFireS2SAPI, "rails": install.RecipeFireS2SAPI, "django": install.RecipeFireS2SAPI,
	} {
		if r, _ := reg.Recipe(key, recipeTestURL); r.ConversionFire != want {
			t.Errorf("%s: conversionFire %s, want %s", key, r.ConversionFire, want)
		}
	}
	shopify, _ := reg.Recipe("shopify", recipeTestURL)
	gotchas := strings.Join(shopify.Gotchas, "\n")
	for _, want := range []string{"Shopify Payments", "Custom Pixel sandbox cannot load external scripts", "Shopify Collabs"} {
		if !strings.Contains(gotchas, want) {
			t.Errorf("shopify gotchas lack %q", want)
		}
	}
}

func recipeTexts(r *install.InstallRecipe) []string {
	texts := []string{r.DisplayName, r.ConversionFirePath}
	texts = append(texts, r.Gotchas...)
	for _, s := range r.Steps {
		texts = append(texts, s.Title, s.Detail)
	}
	return texts
}

// Recipes describe the tracking script as it is: its cookie, its browser API
// and where it is served. A rename there must be a rename here too.
func TestRecipesAgreeWithTheTrackingScript(t *testing.T) {
	script, err := os.ReadFile("t.js")
	if err != nil {
		t.Fatalf("reading the tracking script: %v", err)
	}
	for _, want := range []string{`"tandem_ref"`, "referral:", "conversion:", "lead:", `"/api/track/conversion"`} {
		if !strings.Contains(string(script), want) {
			t.Errorf("t.js no longer contains %s, which the recipes rely on", want)
		}
	}
	var all []string
	for _, p := range install.Recipes().Platforms() {
		r, _ := install.Recipes().Recipe(p.PlatformKey, recipeTestURL)
		all = append(all, recipeTexts(r)...)
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{
		recipeTestURL + install.SnippetScriptPath, "tandem_ref", "window.tandem.conversion", "window.tandem.referral()",
		"window.tandem.lead", "X-Tandem-Signature", "rk_live_", "rks_", "Settings → API keys", "Settings → Install",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no recipe mentions %q", want)
		}
	}
}

// Keys match case-insensitively, ignoring punctuation, and common names
// reach the right recipe.
func TestRecipeAliases(t *testing.T) {
	reg := install.Recipes()
	for in, want := range map[string]string{
		"woocommerce": "woocommerce", "WooCommerce": "woocommerce", "woo": "woocommerce", "  WOO ": "woocommerce",
		"next.js": "nextjs", "Next": "nextjs", "next-js": "nextjs",
		"wp": "wordpress", "WordPress": "wordpress",
		"Ruby on Rails": "rails", "Lemon Squeezy": "lemonsqueezy", "nuxt": "vue", "Vue / Nuxt": "vue",
		"php": "laravel", "python": "django", "Stripe Payment Links": "stripe", "SHOPIFY": "shopify",
	} {
		r, err := reg.Recipe(in, recipeTestURL)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if r.Fallback || r.PlatformKey != want {
			t.Errorf("%q: got %q (fallback %v), want %q", in, r.PlatformKey, r.Fallback, want)
		}
	}
}

// An unknown key gets the generic recipe, describing all three paths, with
// the key echoed back.
func TestRecipeFallback(t *testing.T) {
	r, err := install.Recipes().Recipe("  BigCommerce ", recipeTestURL+"/")
	if err != nil {
		t.Fatal(err)
	}
	if !r.Fallback || r.PlatformKey != "BigCommerce" {
		t.Fatalf("got platformKey %q fallback %v, want the key echoed with fallback true", r.PlatformKey, r.Fallback)
	}
	if r.Category != install.RecipeFallbackCategory || r.ConversionFire != install.RecipeFallbackConversionFire ||
		r.RequiresAPIKey || r.RequiresStripeConnect || r.VendorDocsURL != nil {
		t.Errorf("fallback names a platform: %+v", r.Platform())
	}
	if r.DocsURL != recipeTestURL+"/docs/install" {
		t.Errorf("fallback docsURL %q, want the install docs index", r.DocsURL)
	}
	if len(r.Steps) < 3 || r.ConversionFirePath == "" {
		t.Fatalf("fallback has %d steps", len(r.Steps))
	}
	text := strings.Join(recipeTexts(r), "\n")
	for _, path := range []string{"client_reference_id", "window.tandem.conversion", "X-Tandem-Signature", "stripeConnectLinked"} {
		if !strings.Contains(text, path) {
			t.Errorf("fallback does not describe %q", path)
		}
	}
	// Punctuation-only keys match nothing and fall back too.
	if r, err := install.Recipes().Recipe("???", recipeTestURL); err != nil || !r.Fallback {
		t.Errorf("\"???\": got %+v, %v; want the fallback", r, err)
	}
}

// What a caller gets is a copy: changing it leaves the registry alone.
func TestRecipeResultsAreCopies(t *testing.T) {
	reg := install.Recipes()
	r, _ := reg.Recipe("stripe", recipeTestURL)
	r.Steps[0].Title = "changed"
	r.Gotchas[0] = "changed"
	reg.Platforms()[0].DisplayName = "changed"
	again, _ := reg.Recipe("stripe", recipeTestURL)
	if again.Steps[0].Title == "changed" || again.Gotchas[0] == "changed" || reg.Platforms()[0].DisplayName == "changed" {
		t.Fatal("a caller's change leaked into the registry")
	}
}

func TestRecipeKeyValidation(t *testing.T) {
	for name, key := range map[string]string{
		"empty": "", "blank": "   ", "too long": strings.Repeat("a", install.RecipePlatformKeyMaxLen+1),
		"control character": "shop\x00ify", "invalid UTF-8": "shop\xffify",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := install.Recipes().Recipe(key, recipeTestURL)
			var f *fault.Error
			if !errors.As(err, &f) || f.Kind != fault.KindInvalid || f.Field != "platformKey" {
				t.Fatalf("got %v, want an invalid platformKey", err)
			}
		})
	}
	if _, err := install.Recipes().Recipe(strings.Repeat("é", install.RecipePlatformKeyMaxLen), recipeTestURL); err != nil {
		t.Errorf("a 64-character key: %v", err)
	}
}

// validRecipe is a minimal well-formed recipe file for platformKey key.
func validRecipe(key string) string {
	return `{"platformKey": "` + key + `", "displayName": "Acme ` + key + `", "aliases": ["acme-` + key + `"],
	"category": "ecommerce", "conversionFire": "pixel", "requiresStripeConnect": false, "requiresApiKey": false,
	"steps": [{"title": "a", "detail": "a {PUBLIC_URL}/t.js"}, {"title": "b", "detail": "b"}, {"title": "c", "detail": "c"}],
	"gotchas": ["g"], "conversionFirePath": "p"}`
}

const validFallback = `{"displayName": "Any other platform",
	"steps": [{"title": "a", "detail": "a"}, {"title": "b", "detail": "b"}, {"title": "c", "detail": "c"}],
	"gotchas": ["g"], "conversionFirePath": "p"}`

// A malformed recipe stops the registry from loading, with a message naming
// the file and the problem.
func TestLoadRecipeRegistryRefusesMalformedEntries(t *testing.T) {
	good := validRecipe("acme")
	edit := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	for name, tc := range map[string]struct {
		files map[string]string
		want  string
	}{
		"not JSON":          {map[string]string{"acme.json": `{"platformKey": `}, "acme.json: not a valid recipe"},
		"unknown field":     {map[string]string{"acme.json": edit(`"gotchas"`, `"gotcha": [], "gotchas"`)}, `unknown field "gotcha"`},
		"trailing text":     {map[string]string{"acme.json": good + ` {}`}, "text after the recipe"},
		"name mismatch":     {map[string]string{"other.json": good}, `must equal the file name "other"`},
		"bad key":           {map[string]string{"Acme.json": edit(`"platformKey": "acme"`, `"platformKey": "Acme"`)}, "lowercase slug"},
		"bad category":      {map[string]string{"acme.json": edit(`"ecommerce"`, `"shop"`)}, `category "shop"`},
		"bad fire":          {map[string]string{"acme.json": edit(`"pixel"`, `"email"`)}, `conversionFire "email"`},
		"api key flag":      {map[string]string{"acme.json": edit(`"requiresApiKey": false`, `"requiresApiKey": true`)}, "requiresApiKey must be true exactly"},
		"s2s without key":   {map[string]string{"acme.json": edit(`"pixel"`, `"s2s-api"`)}, "requiresApiKey must be true exactly"},
		"stripe flag":       {map[string]string{"acme.json": edit(`"pixel"`, `"stripe-webhook"`)}, "requiresStripeConnect must be true exactly"},
		"two steps":         {map[string]string{"acme.json": edit(`, {"title": "c", "detail": "c"}`, ``)}, "at least 3 steps, got 2"},
		"empty step":        {map[string]string{"acme.json": edit(`{"title": "b", "detail": "b"}`, `{"title": "b", "detail": " "}`)}, "step 2 needs a title and a detail"},
		"no gotchas":        {map[string]string{"acme.json": edit(`["g"]`, `[]`)}, "at least one pitfall"},
		"no fire path":      {map[string]string{"acme.json": edit(`"conversionFirePath": "p"`, `"conversionFirePath": ""`)}, "conversionFirePath must say"},
		"unknown token":     {map[string]string{"acme.json": edit(`{PUBLIC_URL}`, `{PUBLIC_HOST}`)}, "unknown placeholder {PUBLIC_HOST}"},
		"bad vendor URL":    {map[string]string{"acme.json": edit(`"gotchas"`, `"vendorDocsURL": "http://acme.test", "gotchas"`)}, "must be an absolute https URL"},
		"no display name":   {map[string]string{"acme.json": edit(`"Acme acme"`, `""`)}, "displayName must be"},
		"alias collision":   {map[string]string{"acme.json": good, "beta.json": strings.Replace(validRecipe("beta"), `"acme-beta"`, `"ACME"`, 1)}, `already names platform "acme"`},
		"empty fallback":    {map[string]string{"acme.json": good, "_fallback.json": ""}, "_fallback.json: not a valid recipe"},
		"fallback platform": {map[string]string{"acme.json": good, "_fallback.json": strings.Replace(validFallback, `{`, `{"category": "cms", `, 1)}, "the fallback names no platform"},
		"no platforms":      {map[string]string{}, "no platform recipes"},
	} {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{"_fallback.json": {Data: []byte(validFallback)}}
			for n, src := range tc.files {
				fsys[n] = &fstest.MapFile{Data: []byte(src)}
			}
			_, err := install.LoadRecipeRegistry(fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	t.Run("fallback file absent", func(t *testing.T) {
		_, err := install.LoadRecipeRegistry(fstest.MapFS{"acme.json": {Data: []byte(good)}})
		if err == nil || !strings.Contains(err.Error(), "_fallback.json: missing") {
			t.Fatalf("got %v, want the missing fallback named", err)
		}
	})
	t.Run("well formed", func(t *testing.T) {
		reg, err := install.LoadRecipeRegistry(fstest.MapFS{
			"acme.json": {Data: []byte(good)}, "beta.json": {Data: []byte(validRecipe("beta"))},
			"_fallback.json": {Data: []byte(validFallback)}, "README.md": {Data: []byte("not a recipe")},
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(reg.Platforms()); n != 2 {
			t.Fatalf("got %d platforms, want 2", n)
		}
		r, err := reg.Recipe("ACME-acme", recipeTestURL)
		if err != nil || r.PlatformKey != "acme" || r.Steps[0].Detail != "a "+recipeTestURL+"/t.js" {
			t.Fatalf("got %+v, %v; want acme by alias with the public URL filled in", r, err)
		}
	})
}
