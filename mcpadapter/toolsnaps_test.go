package mcpadapter_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/mcpadapter"
	"github.com/tandemhq/tandem/store/storetest"
)

// The seed's 39 tools: 23 reads and 16 writes (the seed lists the writes by
// name under "Best practices").
var (
	seedReads = []string{
		"list_affiliates", "get_affiliate", "list_conversions", "list_campaigns", "get_campaign",
		"list_payouts", "get_payout", "dashboard_summary", "dashboard_timeseries", "list_audit_log",
		"get_home_currency", "get_program_sub_affiliate_config", "list_affiliate_sub_affiliates",
		"list_campaign_coupons", "list_affiliate_coupons", "list_my_coupons", "get_org_profile",
		"get_billing_state", "list_install_platforms", "get_install_recipe", "preview_conversion_import",
		"get_attribution_params", "get_install_snippet",
	}
	seedWrites = []string{
		"approve_affiliate", "reject_affiliate", "preview_payout", "mint_embed_token", "set_home_currency",
		"set_program_sub_affiliate_config", "create_campaign_coupon", "generate_affiliate_coupon",
		"revoke_affiliate_coupon", "create_campaign", "create_affiliate_invite", "bulk_invite_affiliates",
		"update_attribution_params", "import_affiliates", "import_conversions", "record_lead",
	}
)

func programsTools(t *testing.T) []*mcpadapter.Tool {
	t.Helper()
	client := storetest.SQLite(t).Client
	es := graph.NewSchema(client, graph.Deps{})
	runner, err := graph.NewRunner(es, client, graph.Options{}, mcpadapter.ProgramsTools())
	if err != nil {
		t.Fatal(err)
	}
	tools, err := mcpadapter.Tools(es.Schema(), runner)
	if err != nil {
		t.Fatal(err)
	}
	return tools
}

func TestProgramsToolsetIsTheSeeds(t *testing.T) {
	if len(seedReads) != 23 || len(seedWrites) != 16 {
		t.Fatalf("the seed has 23 reads and 16 writes; this list has %d and %d", len(seedReads), len(seedWrites))
	}
	var reads, writes []string
	for _, tool := range programsTools(t) {
		if tool.Read {
			reads = append(reads, tool.Name)
		} else {
			writes = append(writes, tool.Name)
		}
	}
	for _, c := range []struct {
		kind      string
		got, want []string
	}{{"reads", reads, seedReads}, {"writes", writes, seedWrites}} {
		got, want := slices.Sorted(slices.Values(c.got)), slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got  %v\n want %v", c.kind, got, want)
		}
	}
}

var toolName = regexp.MustCompile(`^[a-z][a-z0-9_]{2,63}$`)

// Meta-tests over every tool: what MCP clients and models rely on.
func TestEveryToolIsWellFormed(t *testing.T) {
	checkToolsWellFormed(t, programsTools(t))
}

func checkToolsWellFormed(t *testing.T, tools []*mcpadapter.Tool) {
	t.Helper()
	for _, tool := range tools {
		d := tool.Def
		t.Run(tool.Name, func(t *testing.T) {
			if !toolName.MatchString(d.Name) {
				t.Errorf("name %q is not snake_case", d.Name)
			}
			if len(d.Description) < 40 {
				t.Errorf("description %q is too short to tell a model when to call the tool", d.Description)
			}
			a := d.Annotations
			if a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil || a.Title == "" {
				t.Errorf("annotations incomplete: %+v", a)
			}
			if a.ReadOnlyHint != nil && *a.ReadOnlyHint != tool.Read {
				t.Errorf("readOnlyHint %v but the operation is a %s", *a.ReadOnlyHint, map[bool]string{true: "query", false: "mutation"}[tool.Read])
			}
			if tool.Read && a.DestructiveHint != nil && *a.DestructiveHint {
				t.Error("a read is never destructive")
			}
			var in map[string]any
			if err := json.Unmarshal(d.RawInputSchema, &in); err != nil {
				t.Fatal(err)
			}
			if in["type"] != "object" {
				t.Errorf("input schema root is %v, want object", in["type"])
			}
			for _, k := range []string{"anyOf", "oneOf", "allOf", "not"} {
				if _, ok := in[k]; ok {
					t.Errorf("input schema has a top-level %s; clients reject it", k)
				}
			}
			props, _ := in["properties"].(map[string]any)
			for name, p := range props {
				pm, _ := p.(map[string]any)
				if desc, _ := pm["description"].(string); strings.TrimSpace(desc) == "" {
					t.Errorf("argument %s has no description", name)
				}
			}
			var out map[string]any
			if err := json.Unmarshal(d.RawOutputSchema, &out); err != nil {
				t.Fatal(err)
			}
			if out["type"] != "object" {
				t.Errorf("output schema root is %v, want object", out["type"])
			}
		})
	}
}

// Tool snapshots: each tool's definition as tools/list shows it, under
// testdata/toolsnaps. A change to a tool shows in review as a diff; run
// UPDATE_TOOLSNAPS=true go test ./mcpadapter -run TestToolSnapshots to accept it.
func TestToolSnapshots(t *testing.T) {
	dir := filepath.Join("testdata", "toolsnaps")
	update := os.Getenv("UPDATE_TOOLSNAPS") == "true"
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	for _, tool := range programsTools(t) {
		file := filepath.Join(dir, tool.Name+".snap")
		want[filepath.Base(file)] = true
		raw, err := json.Marshal(tool.Def)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		_ = json.Unmarshal(raw, &v)
		got, _ := json.MarshalIndent(v, "", "  ")
		got = append(got, '\n')
		if update {
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%s: no snapshot; run UPDATE_TOOLSNAPS=true go test ./mcpadapter -run TestToolSnapshots", tool.Name)
			continue
		}
		if string(old) != string(got) {
			t.Errorf("%s changed; review the diff and run UPDATE_TOOLSNAPS=true go test ./mcpadapter -run TestToolSnapshots:\n%s", tool.Name, got)
		}
	}
	entries, _ := os.ReadDir(dir)
	var stale []string
	for _, e := range entries {
		if !want[e.Name()] {
			stale = append(stale, e.Name())
		}
	}
	sort.Strings(stale)
	for _, name := range stale {
		if update {
			_ = os.Remove(filepath.Join(dir, name))
		} else {
			t.Errorf("%s: snapshot of a tool that no longer exists; delete it", name)
		}
	}
}
