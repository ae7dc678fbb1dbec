package mcpadapter_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/mcpadapter"
	"github.com/tandemhq/tandem/store/storetest"
)

// The Subscriptions seed's seven tools, names exact.
var kordiSeedTools = []string{
	"kordi_list_subscriptions", "kordi_analyze_billing_health", "kordi_list_proactive_tasks",
	"kordi_get_cancellation_route", "kordi_ingest_subscription", "kordi_get_analytics", "kordi_get_top_shows",
}

func kordiToolset(t *testing.T) ([]*mcpadapter.Tool, []*mcpadapter.Resource) {
	t.Helper()
	client := storetest.SQLite(t).Client
	es := graph.NewSchema(client, graph.Deps{})
	ts := mcpadapter.Kordi()
	runner, err := graph.NewRunner(es, client, graph.Options{}, ts.Files)
	if err != nil {
		t.Fatal(err)
	}
	tools, err := ts.Tools(es.Schema(), runner)
	if err != nil {
		t.Fatal(err)
	}
	resources, err := mcpadapter.Resources(es.Schema(), runner)
	if err != nil {
		t.Fatal(err)
	}
	return tools, resources
}

func TestKordiToolsetIsTheSeeds(t *testing.T) {
	tools, resources := kordiToolset(t)
	var names []string
	for _, tool := range tools {
		names = append(names, tool.Name)
	}
	if got, want := slices.Sorted(slices.Values(names)), slices.Sorted(slices.Values(kordiSeedTools)); !slices.Equal(got, want) {
		t.Errorf("tools:\n got  %v\n want %v", got, want)
	}
	if len(resources) != 1 || resources[0].Def.URI != "kordi://subscription-pulse" || resources[0].Def.MIMEType != "application/json" ||
		!strings.Contains(resources[0].Def.Description, "once per session") {
		t.Errorf("resources = %+v, want kordi://subscription-pulse (application/json) described per the seed", resources)
	}
	checkToolsWellFormed(t, tools)
}

// What the seed says about each tool's inputs and behaviour, as the tool
// definitions show it to a client.
func TestKordiToolDefinitions(t *testing.T) {
	tools, _ := kordiToolset(t)
	byName := map[string]map[string]any{}
	defs := map[string]*mcpadapter.Tool{}
	for _, tool := range tools {
		var in map[string]any
		if err := json.Unmarshal(tool.Def.RawInputSchema, &in); err != nil {
			t.Fatal(err)
		}
		byName[tool.Name] = in["properties"].(map[string]any)
		defs[tool.Name] = tool
	}
	prop := func(tool, name string) map[string]any {
		t.Helper()
		p, ok := byName[tool][name].(map[string]any)
		if !ok {
			t.Fatalf("%s has no argument %s: %v", tool, name, byName[tool])
		}
		return p
	}
	for _, c := range []struct {
		tool, arg, key string
		want           any
	}{
		{"kordi_list_subscriptions", "limit", "minimum", 1.0},
		{"kordi_list_subscriptions", "offset", "minimum", 0.0},
		{"kordi_list_subscriptions", "include_paused", "type", "boolean"},
		{"kordi_list_proactive_tasks", "trial_horizon_days", "minimum", 1.0},
		{"kordi_list_proactive_tasks", "trial_horizon_days", "maximum", 30.0},
		{"kordi_list_proactive_tasks", "trial_horizon_days", "default", 7.0},
		{"kordi_get_cancellation_route", "service_id", "type", "string"},
		{"kordi_ingest_subscription", "amount", "type", "number"},
		{"kordi_ingest_subscription", "bill_date", "minimum", 1.0},
		{"kordi_ingest_subscription", "bill_date", "maximum", 31.0},
		{"kordi_ingest_subscription", "bill_date", "maxLength", 64.0},
		{"kordi_get_top_shows", "limit", "maximum", 50.0},
	} {
		if got := prop(c.tool, c.arg)[c.key]; got != c.want {
			t.Errorf("%s.%s %s = %v, want %v", c.tool, c.arg, c.key, got, c.want)
		}
	}
	if got := prop("kordi_ingest_subscription", "bill_date")["type"]; !slices.Equal(toStrings(got), []string{"integer", "string"}) {
		t.Errorf("bill_date type = %v, want [integer string]", got)
	}
	if got := prop("kordi_ingest_subscription", "card_network")["enum"]; !slices.Equal(toStrings(got), []string{"visa", "mastercard", "amex", "discover"}) {
		t.Errorf("card_network enum = %v", got)
	}
	if d, _ := prop("kordi_ingest_subscription", "card_network")["description"].(string); !strings.Contains(d, "never guessed") {
		t.Errorf("card_network description %q does not say never guessed", d)
	}
	if p, _ := prop("kordi_ingest_subscription", "trial_end_date")["pattern"].(string); p == "" {
		t.Error("trial_end_date has no YYYY-MM-DD pattern")
	}
	// The list never shows card data, in its output schema or otherwise.
	if out := string(defs["kordi_list_subscriptions"].Def.RawOutputSchema); strings.Contains(out, "card") || !strings.Contains(out, `"truncated"`) {
		t.Errorf("kordi_list_subscriptions output schema: card fields or no truncated flag:\n%s", out)
	}
	route := defs["kordi_get_cancellation_route"].Def
	if a := route.Annotations; *a.ReadOnlyHint || *a.DestructiveHint || *a.IdempotentHint {
		t.Errorf("kordi_get_cancellation_route annotations = %+v, want not read-only, not destructive, not idempotent", a)
	}
	if !strings.Contains(route.Description, "Call only on explicit user request") || !strings.Contains(route.Description, "kordi_list_subscriptions") {
		t.Errorf("kordi_get_cancellation_route description: %q", route.Description)
	}
	if !strings.Contains(defs["kordi_get_analytics"].Def.Description, "Admin") {
		t.Error("kordi_get_analytics does not say it is admin-gated")
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, e := range list {
		out[i], _ = e.(string)
	}
	return out
}

// Kordi's tool (and resource) snapshots, under testdata/kordisnaps: a change
// shows in review as a diff; UPDATE_TOOLSNAPS=true go test ./mcpadapter
// -run TestKordiToolSnapshots accepts it.
func TestKordiToolSnapshots(t *testing.T) {
	tools, resources := kordiToolset(t)
	defs := map[string]any{}
	for _, tool := range tools {
		defs[tool.Name] = tool.Def
	}
	for _, res := range resources {
		defs["resource."+res.Name] = res.Def
	}
	checkSnapshots(t, filepath.Join("testdata", "kordisnaps"), defs, "TestKordiToolSnapshots")
}

func checkSnapshots(t *testing.T, dir string, defs map[string]any, testName string) {
	t.Helper()
	update := os.Getenv("UPDATE_TOOLSNAPS") == "true"
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rerun := "run UPDATE_TOOLSNAPS=true go test ./mcpadapter -run " + testName
	want := map[string]bool{}
	for name, def := range defs {
		file := filepath.Join(dir, name+".snap")
		want[filepath.Base(file)] = true
		raw, err := json.Marshal(def)
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
			t.Errorf("%s: no snapshot; %s", name, rerun)
			continue
		}
		if string(old) != string(got) {
			t.Errorf("%s changed; review the diff and %s:\n%s", name, rerun, got)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if want[e.Name()] {
			continue
		}
		if update {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		} else {
			t.Errorf("%s: snapshot of a tool that no longer exists; delete it", e.Name())
		}
	}
}
