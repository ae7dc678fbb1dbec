package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/ent/auditlogentry"
	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/install"
	"github.com/tandemhq/tandem/mcpadapter"
	"github.com/tandemhq/tandem/rest"
	"github.com/tandemhq/tandem/store/storetest"
	"github.com/tandemhq/tandem/viewer"
)

type installPlatformRow struct {
	PlatformKey           string `json:"platformKey"`
	DisplayName           string `json:"displayName"`
	Category              string `json:"category"`
	ConversionFire        string `json:"conversionFire"`
	RequiresStripeConnect bool   `json:"requiresStripeConnect"`
	RequiresAPIKey        bool   `json:"requiresApiKey"`
}

type installRecipeRow struct {
	installPlatformRow
	DocsURL       string  `json:"docsURL"`
	VendorDocsURL *string `json:"vendorDocsURL"`
	Steps         []struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	} `json:"steps"`
	Gotchas            []string `json:"gotchas"`
	ConversionFirePath string   `json:"conversionFirePath"`
	Fallback           bool     `json:"fallback"`
}

const installRecipeQuery = `query($key: String!) { installRecipe(platformKey: $key) {
	platformKey displayName category conversionFire requiresStripeConnect requiresApiKey
	docsURL vendorDocsURL steps { title detail } gotchas conversionFirePath fallback } }`

func TestInstallPlatforms(t *testing.T) {
	db := storetest.SQLite(t)
	a := seedTenant(t, db.Client, "alpha")
	api := newAPI(db.Client, graph.Options{})
	const q = `{ installPlatforms { platformKey displayName category conversionFire requiresStripeConnect requiresApiKey } }`

	// Any member may read the recipes, on any plan: there is no plan gate.
	trial := *a.Member
	trial.Plan, trial.SubscriptionStatus = "Trial", "trialing"
	var got struct {
		InstallPlatforms []installPlatformRow `json:"installPlatforms"`
	}
	api.ok(t, &trial, q, nil).decode(t, &got)
	if len(got.InstallPlatforms) != 29 {
		t.Fatalf("got %d platforms, want 29", len(got.InstallPlatforms))
	}
	byKey := map[string]installPlatformRow{}
	for i, p := range got.InstallPlatforms {
		byKey[p.PlatformKey] = p
		if i > 0 && strings.ToLower(got.InstallPlatforms[i-1].DisplayName) > strings.ToLower(p.DisplayName) {
			t.Errorf("not sorted by displayName: %q before %q", got.InstallPlatforms[i-1].DisplayName, p.DisplayName)
		}
	}
	if want := (installPlatformRow{"shopify", "Shopify", "ecommerce", "coupon", false, false}); byKey["shopify"] != want {
		t.Errorf("shopify: got %+v, want %+v", byKey["shopify"], want)
	}
	if p := byKey["gumroad"]; !p.RequiresAPIKey || p.ConversionFire != "s2s-api" {
		t.Errorf("gumroad: got %+v, want the s2s-api path with requiresApiKey", p)
	}
	if p := byKey["stripe"]; !p.RequiresStripeConnect || p.ConversionFire != "stripe-webhook" {
		t.Errorf("stripe: got %+v, want the stripe-webhook path with requiresStripeConnect", p)
	}

	// Without a viewer there is nothing to read.
	wantError(t, api.do(t, nil, q, nil), graph.CodeUnauthenticated, "")
}

func TestInstallRecipe(t *testing.T) {
	db := storetest.SQLite(t)
	a := seedTenant(t, db.Client, "alpha")
	api := newAPI(db.Client, graph.Options{})
	recipe := func(key string) installRecipeRow {
		t.Helper()
		var got struct {
			InstallRecipe installRecipeRow `json:"installRecipe"`
		}
		api.ok(t, a.Owner, installRecipeQuery, map[string]any{"key": key}).decode(t, &got)
		return got.InstallRecipe
	}

	t.Run("by alias", func(t *testing.T) {
		r := recipe("Woo")
		if r.PlatformKey != "woocommerce" || r.Fallback || r.ConversionFire != "pixel" {
			t.Fatalf("got %+v, want the woocommerce recipe", r.installPlatformRow)
		}
		if r.DocsURL != "https://tandem.test/docs/install/woocommerce" {
			t.Errorf("docsURL %q, want it on the public URL", r.DocsURL)
		}
		if len(r.Steps) < 3 || r.Steps[0].Title == "" || len(r.Gotchas) == 0 || r.ConversionFirePath == "" {
			t.Errorf("incomplete recipe: %+v", r)
		}
		if !strings.Contains(r.ConversionFirePath+r.Steps[1].Detail, "https://tandem.test/t.js") {
			t.Errorf("the snippet in the recipe does not point at the public URL: %q", r.Steps[1].Detail)
		}
		if r.VendorDocsURL == nil || !strings.HasPrefix(*r.VendorDocsURL, "https://") {
			t.Errorf("vendorDocsURL %v, want WooCommerce's docs", r.VendorDocsURL)
		}
	})
	t.Run("next.js", func(t *testing.T) {
		if r := recipe("next.js"); r.PlatformKey != "nextjs" || !r.RequiresStripeConnect {
			t.Fatalf("got %+v, want nextjs on the stripe-webhook path", r.installPlatformRow)
		}
	})
	t.Run("unknown key falls back", func(t *testing.T) {
		r := recipe("BigCommerce")
		if !r.Fallback || r.PlatformKey != "BigCommerce" || r.Category != "other" || r.ConversionFire != "any" {
			t.Fatalf("got %+v fallback %v, want the generic recipe echoing the key", r.installPlatformRow, r.Fallback)
		}
		if r.DocsURL != "https://tandem.test/docs/install" || len(r.Steps) < 3 {
			t.Errorf("fallback: docsURL %q, %d steps", r.DocsURL, len(r.Steps))
		}
	})
	t.Run("validation", func(t *testing.T) {
		for name, key := range map[string]string{"empty": "", "blank": "  ", "too long": strings.Repeat("k", 65)} {
			resp := api.do(t, a.Owner, installRecipeQuery, map[string]any{"key": key})
			e := wantError(t, resp, graph.CodeBadUserInput, "platformKey")
			if !strings.Contains(e.Message, "platformKey") {
				t.Errorf("%s: message %q does not name the field", name, e.Message)
			}
		}
		wantError(t, api.do(t, nil, installRecipeQuery, map[string]any{"key": "shopify"}), graph.CodeUnauthenticated, "")
	})
}

// The MCP tools run through the runner exactly as the adapter runs them, and
// each call by an assistant lands in the audit log.
func TestInstallRecipeTools(t *testing.T) {
	db := storetest.SQLite(t)
	a := seedTenant(t, db.Client, "alpha")
	runner, err := graph.NewRunner(graph.NewSchema(db.Client, testDeps()), db.Client, graph.Options{}, mcpadapter.ProgramsTools())
	if err != nil {
		t.Fatal(err)
	}
	mcp := *a.Owner
	mcp.ActorType, mcp.TokenID, mcp.Plan = viewer.ActorMCP, a.MCPToken, "Starter"
	ctx := viewer.NewContext(context.Background(), &mcp)

	resp := runner.Run(ctx, "list_install_platforms", nil)
	if len(resp.Errors) > 0 {
		t.Fatalf("list_install_platforms: %v", resp.Errors)
	}
	var list struct {
		InstallPlatforms []installPlatformRow `json:"installPlatforms"`
	}
	if err := json.Unmarshal(resp.Data, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.InstallPlatforms) != 29 || list.InstallPlatforms[0].PlatformKey == "" {
		t.Fatalf("got %d platforms, want 29 with keys", len(list.InstallPlatforms))
	}

	resp = runner.Run(ctx, "get_install_recipe", map[string]any{"platformKey": "shopify"})
	if len(resp.Errors) > 0 {
		t.Fatalf("get_install_recipe: %v", resp.Errors)
	}
	var got struct {
		InstallRecipe installRecipeRow `json:"installRecipe"`
	}
	if err := json.Unmarshal(resp.Data, &got); err != nil {
		t.Fatal(err)
	}
	r := got.InstallRecipe
	if r.PlatformKey != "shopify" || r.Fallback || r.DocsURL != "https://tandem.test/docs/install/shopify" || len(r.Steps) < 3 {
		t.Fatalf("got %+v, want the shopify recipe", r)
	}
	if !strings.Contains(strings.Join(r.Gotchas, " "), "Shopify Collabs") {
		t.Errorf("shopify gotchas %q lack Shopify Collabs", r.Gotchas)
	}

	resp = runner.Run(ctx, "get_install_recipe", map[string]any{"platformKey": "no-such-platform"})
	if len(resp.Errors) > 0 || !strings.Contains(string(resp.Data), `"fallback":true`) {
		t.Fatalf("unknown key: %s %v, want the fallback recipe", resp.Data, resp.Errors)
	}

	resp = runner.Run(ctx, "get_install_recipe", map[string]any{"platformKey": ""})
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["field"] != "platformKey" {
		t.Fatalf("empty key: %v, want one error naming platformKey", resp.Errors)
	}

	for _, action := range []string{"query.list_install_platforms", "query.get_install_recipe"} {
		n := db.Client.AuditLogEntry.Query().Where(auditlogentry.Action(action), auditlogentry.TokenID(a.MCPToken)).CountX(sys())
		if n == 0 {
			t.Errorf("no audit row %s for the MCP token", action)
		}
	}
}

// The server-to-server steps name the header the REST shim really checks.
func TestInstallRecipesNameTheSignatureHeader(t *testing.T) {
	r, err := install.Recipes().Recipe("gumroad", "https://tandem.test")
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, s := range r.Steps {
		text.WriteString(s.Detail)
	}
	if !strings.Contains(text.String(), rest.SignatureHeader+":") {
		t.Fatalf("the gumroad recipe does not name %s", rest.SignatureHeader)
	}
}
