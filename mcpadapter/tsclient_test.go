package mcpadapter_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tandemhq/tandem/store/storetest"
)

// The seed's client config (a URL and an Authorization header) works with
// the official TypeScript SDK unchanged. make test installs the SDK
// (npm ci in testdata/tsclient) when Node is present; CI requires it.
func TestTypeScriptSDKClient(t *testing.T) {
	dir := filepath.Join("testdata", "tsclient")
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "@modelcontextprotocol", "sdk"))
	if err != nil || modErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must run the TypeScript SDK check: node=%v sdk=%v (make test runs npm ci in %s)", err, modErr, dir)
		}
		t.Skipf("skipping the TypeScript SDK client check: needs node and npm ci in %s", dir)
	}
	st := newStack(t, storetest.Backends(t)[0], "growth")
	cmd := exec.Command(node, "client.mjs", st.url+"/api/mcp", st.token)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node client: %v\n%s\n%s", err, out, stderr)
	}
	var got struct {
		Tools      []string       `json:"tools"`
		Profile    map[string]any `json:"profile"`
		BadIsError bool           `json:"badIsError"`
		BadText    string         `json:"badText"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node output is not JSON: %v\n%s", err, out)
	}
	if !slices.Contains(got.Tools, "get_org_profile") || got.Profile["slug"] != "acme" {
		t.Errorf("TypeScript client saw tools %v and profile %v", got.Tools, got.Profile)
	}
	if !got.BadIsError || !strings.Contains(got.BadText, "take must be at least 1") {
		t.Errorf("take=0 should be a tool error naming take: %v %q", got.BadIsError, got.BadText)
	}
}
