package mcpadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/vektah/gqlparser/v2/ast"
)

// A tool's result is its operation's single root field, reshaped for agents:
//
//   - every Relay connection becomes the seeds' page {items, nextCursor,
//     hasMore} (plus totalCount when selected): agents page with a cursor
//     and never see edges or pageInfo;
//   - a list at the root becomes {items: [...]}, since MCP structured
//     content is an object.
//
// The same walk over the selection set produces the output schema and
// reshapes each result, so the two cannot disagree.

// rootField returns the operation's only root field.
func rootField(op *ast.OperationDefinition) (*ast.Field, error) {
	fields := collectFields(op.SelectionSet)
	if len(fields) != 1 {
		return nil, fmt.Errorf("operation %s selects %d root fields; a tool's operation selects exactly one, its result", opName(op), len(fields))
	}
	return fields[0], nil
}

// collectFields flattens a selection set into its fields, in order,
// entering fragments (a node query's "... on Affiliate").
func collectFields(set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			out = append(out, s)
		case *ast.InlineFragment:
			out = append(out, collectFields(s.SelectionSet)...)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				out = append(out, collectFields(s.Definition.SelectionSet)...)
			}
		}
	}
	return out
}

func isConnection(schema *ast.Schema, t *ast.Type) bool {
	if t.Elem != nil {
		return false
	}
	def := schema.Types[t.NamedType]
	return def != nil && def.Kind == ast.Object && strings.HasSuffix(def.Name, "Connection") &&
		def.Fields.ForName("edges") != nil && def.Fields.ForName("pageInfo") != nil
}

// connectionParts finds the node selection, whether pageInfo's hasNextPage
// and endCursor are selected, and totalCount's key, in a connection's
// selection set.
type connectionParts struct {
	node       *ast.Field
	edges      *ast.Field
	pageInfo   *ast.Field
	totalCount *ast.Field
}

func splitConnection(f *ast.Field) (connectionParts, error) {
	var c connectionParts
	for _, sub := range collectFields(f.SelectionSet) {
		switch sub.Name {
		case "edges":
			c.edges = sub
			for _, e := range collectFields(sub.SelectionSet) {
				if e.Name == "node" {
					c.node = e
				}
			}
		case "pageInfo":
			c.pageInfo = sub
		case "totalCount":
			c.totalCount = sub
		}
	}
	if c.node == nil {
		return c, fmt.Errorf("%s: select edges { node { … } } so the page has items", f.Alias)
	}
	return c, nil
}

// pageInfoKeys returns the response keys of hasNextPage and endCursor.
func pageInfoKeys(pi *ast.Field) (hasNext, end string, ok bool) {
	for _, f := range collectFields(pi.SelectionSet) {
		switch f.Name {
		case "hasNextPage":
			hasNext = f.Alias
		case "endCursor":
			end = f.Alias
		}
	}
	return hasNext, end, hasNext != "" && end != ""
}

// outputSchema derives the JSON Schema (draft 2020-12) of a tool's
// structured result from its operation's selection set.
func outputSchema(schema *ast.Schema, op *ast.OperationDefinition) (object, error) {
	root, err := rootField(op)
	if err != nil {
		return nil, err
	}
	if root.Definition == nil {
		return nil, fmt.Errorf("operation %s: field %s is not validated against the schema", opName(op), root.Name)
	}
	t := root.Definition.Type
	var body object
	switch {
	case isConnection(schema, t):
		c, err := splitConnection(root)
		if err != nil {
			return nil, fmt.Errorf("operation %s: %w", opName(op), err)
		}
		if c.pageInfo == nil {
			return nil, fmt.Errorf("operation %s: a paged tool selects pageInfo { hasNextPage endCursor } so agents can ask for the next page", opName(op))
		}
		if _, _, ok := pageInfoKeys(c.pageInfo); !ok {
			return nil, fmt.Errorf("operation %s: pageInfo must select hasNextPage and endCursor", opName(op))
		}
		if body, err = valueSchema(schema, t, root); err != nil {
			return nil, fmt.Errorf("operation %s: %w", opName(op), err)
		}
	case t.Elem != nil:
		items, err := valueSchema(schema, &ast.Type{Elem: t.Elem, NonNull: true}, root)
		if err != nil {
			return nil, fmt.Errorf("operation %s: %w", opName(op), err)
		}
		body = object{{"type", "object"}, {"properties", object{{"items", items}}}, {"required", []any{"items"}}}
	default:
		def := schema.Types[t.NamedType]
		if def == nil || (def.Kind != ast.Object && def.Kind != ast.Interface) {
			return nil, fmt.Errorf("operation %s: the root field %s returns %s; a tool returns an object, a list or a connection", opName(op), root.Name, t.NamedType)
		}
		if body, err = valueSchema(schema, &ast.Type{NamedType: t.NamedType, NonNull: true}, root); err != nil {
			return nil, fmt.Errorf("operation %s: %w", opName(op), err)
		}
	}
	return append(object{{"$schema", "https://json-schema.org/draft/2020-12/schema"}}, body...), nil
}

// valueSchema is the schema of a field's value of type t, selected by f.
func valueSchema(schema *ast.Schema, t *ast.Type, f *ast.Field) (object, error) {
	var s object
	switch {
	case t.Elem != nil:
		items, err := valueSchema(schema, t.Elem, f)
		if err != nil {
			return nil, err
		}
		s = object{{"type", "array"}, {"items", items}}
	case isConnection(schema, t):
		c, err := splitConnection(f)
		if err != nil {
			return nil, err
		}
		node, err := valueSchema(schema, c.node.Definition.Type, c.node)
		if err != nil {
			return nil, err
		}
		props := object{{"items", object{{"type", "array"}, {"items", node}}}}
		required := []any{"items"}
		if c.pageInfo != nil {
			props = props.set("nextCursor", object{{"type", []any{"string", "null"}}, {"description", "Pass as cursor to get the next page; null on the last page."}})
			props = props.set("hasMore", object{{"type", "boolean"}})
			required = append(required, "nextCursor", "hasMore")
		}
		if c.totalCount != nil {
			props = props.set("totalCount", object{{"type", "integer"}})
			required = append(required, "totalCount")
		}
		s = object{{"type", "object"}, {"properties", props}, {"required", required}}
	default:
		def := schema.Types[t.NamedType]
		if def == nil {
			return nil, fmt.Errorf("unknown type %s", t.NamedType)
		}
		switch def.Kind {
		case ast.Scalar:
			s = scalarSchema(def.Name)
		case ast.Enum:
			values := make([]any, 0, len(def.EnumValues))
			for _, ev := range def.EnumValues {
				values = append(values, ev.Name)
			}
			if !t.NonNull {
				values = append(values, nil)
			}
			s = object{{"type", "string"}, {"enum", values}}
		case ast.Object, ast.Interface, ast.Union:
			props := object{}
			var required []any
			for _, sub := range collectFields(f.SelectionSet) {
				if sub.Name == "__typename" {
					props = props.set(sub.Alias, object{{"type", "string"}})
					continue
				}
				if sub.Definition == nil {
					return nil, fmt.Errorf("%s.%s is not validated against the schema", def.Name, sub.Name)
				}
				ps, err := valueSchema(schema, sub.Definition.Type, sub)
				if err != nil {
					return nil, err
				}
				if d := strings.TrimSpace(sub.Definition.Description); d != "" && len(d) <= 300 {
					ps = ps.set("description", d)
				}
				props = props.set(sub.Alias, ps)
				required = append(required, sub.Alias)
			}
			s = object{{"type", "object"}, {"properties", props}}
			if def.Kind == ast.Object && len(required) > 0 {
				// A fragment on one implementation of an interface may be
				// absent from the result; an object's fields are always there.
				s = s.set("required", required)
			}
		default:
			return nil, fmt.Errorf("%s is a %s", def.Name, def.Kind)
		}
	}
	if !t.NonNull {
		s = nullable(s)
	}
	return s, nil
}

// nullable lets s also be null.
func nullable(s object) object {
	out := make(object, 0, len(s))
	for _, m := range s {
		if m.key == "type" {
			if ts, ok := m.value.(string); ok {
				m.value = []any{ts, "null"}
			}
		}
		out = append(out, m)
	}
	if out.get("type") == nil { // the any-value schema of an unknown scalar
		return s
	}
	return out
}

// reshapeRoot turns the operation's GraphQL data into the tool's result.
// data is the response's data object; root the operation's root field,
// found once when the tool or resource was built.
func reshapeRoot(schema *ast.Schema, root *ast.Field, data json.RawMessage) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // int64 amounts survive the round trip
	var top map[string]any
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("decode result: %w", err)
	}
	v, ok := top[root.Alias]
	if !ok || v == nil {
		return nil, errors.New("the operation returned no result")
	}
	out := reshapeValue(schema, root.Definition.Type, root, v)
	if obj, ok := out.(object); ok {
		return obj, nil
	}
	return object{{"items", out}}, nil
}

// verbatimPrefix is how the executor starts the data of a one-field
// operation: {"alias":.
func verbatimPrefix(root *ast.Field) []byte {
	return []byte(`{"` + root.Alias + `":`)
}

// verbatimData is the tool's result as the API sent it, when its root
// field is verbatim (see verbatim; data then starts with prefix, see
// verbatimPrefix) and the value is at most maxChars bytes (0: no limit); ok
// is false when the caller must reshape.
func verbatimData(prefix []byte, data json.RawMessage, maxChars int) (*mcp.CallToolResult, bool) {
	// The executor writes the data of a one-field operation as
	// {"alias":value}; anything else is left to reshape.
	if !bytes.HasPrefix(data, prefix) || !bytes.HasSuffix(data, []byte("}")) {
		return nil, false
	}
	v := data[len(prefix) : len(data)-1]
	if len(v) == 0 || v[0] != '{' || (maxChars > 0 && len(v) > maxChars) || !json.Valid(v) {
		return nil, false
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{mcp.TextContent{Type: "text", Text: string(v)}},
		StructuredContent: json.RawMessage(v),
	}, true
}

// verbatim reports whether the root field's value already is the tool's
// result: an object (not a list, which becomes {items}) with no connection
// anywhere in its selection. GraphQL answers exactly the selected fields in
// selection order, which is what reshapeValue would rebuild, so decoding
// and encoding it again would only cost time.
func verbatim(schema *ast.Schema, root *ast.Field) bool {
	if root.Definition == nil || root.Definition.Type.Elem != nil {
		return false
	}
	var plain func(f *ast.Field) bool
	plain = func(f *ast.Field) bool {
		for _, sub := range collectFields(f.SelectionSet) {
			if sub.Definition == nil {
				if sub.Name == "__typename" {
					continue
				}
				return false
			}
			t := sub.Definition.Type
			for t.Elem != nil {
				t = t.Elem
			}
			if isConnection(schema, t) || !plain(sub) {
				return false
			}
		}
		return true
	}
	return !isConnection(schema, root.Definition.Type) && plain(root)
}

func reshapeValue(schema *ast.Schema, t *ast.Type, f *ast.Field, v any) any {
	if v == nil {
		return nil
	}
	if t.Elem != nil {
		list, _ := v.([]any)
		out := make([]any, len(list))
		for i, e := range list {
			out[i] = reshapeValue(schema, t.Elem, f, e)
		}
		return out
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		return v
	}
	if isConnection(schema, t) {
		return reshapeConnection(schema, f, m)
	}
	out := make(object, 0, len(m))
	for _, sub := range collectFields(f.SelectionSet) {
		val, present := m[sub.Alias]
		if !present {
			continue // a fragment on another implementation
		}
		if sub.Definition == nil { // __typename
			out = out.set(sub.Alias, val)
			continue
		}
		out = out.set(sub.Alias, reshapeValue(schema, sub.Definition.Type, sub, val))
	}
	return out
}

func reshapeConnection(schema *ast.Schema, f *ast.Field, m map[string]any) object {
	c, err := splitConnection(f)
	if err != nil {
		return object{} // outputSchema refused this tool at startup
	}
	edges, _ := m[c.edges.Alias].([]any)
	items := make([]any, 0, len(edges))
	for _, e := range edges {
		em, _ := e.(map[string]any)
		items = append(items, reshapeValue(schema, c.node.Definition.Type, c.node, em[c.node.Alias]))
	}
	out := object{{"items", items}}
	if c.pageInfo != nil {
		pi, _ := m[c.pageInfo.Alias].(map[string]any)
		hasNextKey, endKey, _ := pageInfoKeys(c.pageInfo)
		hasMore, _ := pi[hasNextKey].(bool)
		var next any
		if hasMore {
			next = pi[endKey]
		}
		out = out.set("nextCursor", next).set("hasMore", hasMore)
	}
	if c.totalCount != nil {
		out = out.set("totalCount", m[c.totalCount.Alias])
	}
	return out
}
