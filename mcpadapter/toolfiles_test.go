package mcpadapter_test

import (
	"testing"

	"github.com/tandemhq/tandem/graph"
	"github.com/tandemhq/tandem/mcpadapter"
	"github.com/tandemhq/tandem/store/storetest"
)

// TestProgramsToolFilesLoad parses and validates every Programs tool file
// against the executable schema, as startup does, and derives its schema.
func TestProgramsToolFilesLoad(t *testing.T) {
	client := storetest.SQLite(t).Client
	es := graph.NewSchema(client, graph.Deps{})
	runner, err := graph.NewRunner(es, client, graph.Options{}, mcpadapter.ProgramsTools())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range runner.Names() {
		if _, err := mcpadapter.InputSchema(es.Schema(), runner.Operation(name).Definition); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
