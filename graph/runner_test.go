package graph_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/store/storetest"
)

// A bad operation file stops startup with a message naming the file.
func TestRunnerRefusesBadOperationFiles(t *testing.T) {
	db := storetest.SQLite(t)
	for name, tc := range map[string]struct {
		file, src, want string
	}{
		"unknown field":  {"get_profile.graphql", `query get_profile { viewerOrganization { nickname } }`, `get_profile.graphql: `},
		"name mismatch":  {"get_profile.graphql", `query profile { viewerOrganization { name } }`, `name it after its file, "get_profile"`},
		"two operations": {"two.graphql", `query two { viewerOrganization { name } } query three { viewerOrganization { id } }`, "exactly one"},
		"syntax":         {"broken.graphql", `query broken { viewerOrganization { `, "broken.graphql"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := graph.NewRunner(graph.NewSchema(db.Client, testDeps()), db.Client, graph.Options{}, fstest.MapFS{tc.file: {Data: []byte(tc.src)}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	r, err := graph.NewRunner(graph.NewSchema(db.Client, testDeps()), db.Client, graph.Options{},
		fstest.MapFS{"ops/get_profile.graphql": {Data: []byte(`query get_profile { viewerOrganization { name } }`)}})
	if err != nil || strings.Join(r.Names(), ",") != "get_profile" {
		t.Fatalf("good file: %v %v", err, r)
	}
}
