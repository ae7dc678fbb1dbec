package mcpadapter

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/vektah/gqlparser/v2/ast"
)

// An object result without connections is passed through as the API sent
// it, and it is the same JSON reshape would have built; anything that
// reshape changes (a connection, a list at the root, a null) is not.
func TestVerbatimResultMatchesReshape(t *testing.T) {
	schema := loadSchema(t)
	profile := operation(t, `query p { viewerOrganization { id name org: slug __typename customAttributionParams } }`)
	data := json.RawMessage(`{"viewerOrganization":{"id":"org_1","name":"A \"quoted\" <name>","org":"acme","__typename":"Organization","customAttributionParams":["via","ref"]}}`)
	res, ok := verbatimResult(schema, profile, data, 0)
	if !ok {
		t.Fatal("an object result without connections was reshaped")
	}
	obj, err := reshape(schema, profile, data)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := encode(&want, obj); err != nil {
		t.Fatal(err)
	}
	if got := string(res.StructuredContent.(json.RawMessage)); !sameJSON(t, got, want.String()) {
		t.Fatalf("verbatim %s\nreshaped %s", got, want.String())
	}
	if text, ok := res.Content[0].(mcp.TextContent); !ok || text.Text != string(res.StructuredContent.(json.RawMessage)) {
		t.Fatalf("text content %v is not the structured content", res.Content)
	}

	if _, ok := verbatimResult(schema, profile, data, 20); ok {
		t.Error("a result longer than the tool's limit skipped truncation")
	}
	if _, ok := verbatimResult(schema, profile, json.RawMessage(`{"viewerOrganization":null}`), 0); ok {
		t.Error("a null result was passed through")
	}
	for name, src := range map[string]string{
		"connection":        `query c { campaigns(first: 5) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
		"nested connection": `query n { affiliate(id: "aff_1") { id recruits(first: 1) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }`,
		"list at the root":  `query l { supportedHomeCurrencies }`,
	} {
		root, err := rootField(operation(t, src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if verbatim(schema, root) {
			t.Errorf("%s: passed through unreshaped", name)
		}
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// verbatimResult is, for the tests, the tool's result as the API sent it, when reshaping
// would rebuild the same JSON (see verbatim) and it is at most maxChars
// bytes (0: no limit); ok is false when the caller must reshape.
func verbatimResult(schema *ast.Schema, op *ast.OperationDefinition, data json.RawMessage, maxChars int) (*mcp.CallToolResult, bool) {
	root, err := rootField(op)
	if err != nil || !verbatim(schema, root) {
		return nil, false
	}
	return verbatimData(verbatimPrefix(root), data, maxChars)
}

// reshape, for the tests, turns the operation's GraphQL data into the tool's result. data is
// the response's data object.
func reshape(schema *ast.Schema, op *ast.OperationDefinition, data json.RawMessage) (object, error) {
	root, err := rootField(op)
	if err != nil {
		return nil, err
	}
	return reshapeRoot(schema, root, data)
}
