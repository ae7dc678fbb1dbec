// Package mcpadapter exposes GraphQL operation files as MCP tools. A tool's
// name, description and argument schema all come from its operation, so the
// .graphql file is the single place a tool is defined and the schema is the
// single place its types are checked.
package mcpadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// maxInputDepth bounds how deep input objects are expanded. Generated filter
// inputs (*WhereInput) refer to themselves and to each other through
// not/and/or/has*With, so expanding them fully never ends, and even a few
// levels multiply into a schema too large to hand a model. An input object
// this deep is described only as {"type":"object"}; the server still
// validates whatever the model sends.
const maxInputDepth = 3

// InputSchema derives the JSON Schema (draft 2020-12) of a tool's arguments
// from its operation's variables, so that MCP clients can check and prompt
// for arguments without the adapter repeating the GraphQL types by hand.
//
// Each variable becomes a property of the same name. A non-null variable
// without a default is required; a nullable one is optional, meaning the
// argument may be left out (null is not offered as a value, which keeps the
// schema simple for models). Properties follow the variables' order and the
// output is byte-for-byte deterministic, so tool listings can be cached and
// compared.
//
// Bounds come from the variable directives graph/schema.graphql declares:
// @range (minimum/maximum), @length (minLength/maxLength or
// minItems/maxItems), @values (enum), @pattern and @singleOrList. The
// resolvers enforce the same bounds, so a caller that skips the schema is
// refused all the same.
func InputSchema(schema *ast.Schema, op *ast.OperationDefinition) (json.RawMessage, error) {
	if schema == nil {
		return nil, errors.New("mcpadapter: no schema")
	}
	if op == nil {
		return nil, errors.New("mcpadapter: no operation")
	}
	props := object{}
	var required []any
	for _, v := range op.VariableDefinitions {
		p, err := typeSchema(schema, v.Type, 0)
		if err != nil {
			return nil, fmt.Errorf("operation %s: variable $%s: %w", opName(op), v.Variable, err)
		}
		if p, err = applyDirectives(p, v.Directives); err != nil {
			return nil, fmt.Errorf("operation %s: variable $%s: %w", opName(op), v.Variable, err)
		}
		if d := strings.TrimSpace(v.Description); d != "" {
			p = p.set("description", d)
		}
		if v.DefaultValue != nil {
			def, err := v.DefaultValue.Value(nil)
			if err != nil {
				return nil, fmt.Errorf("operation %s: variable $%s: default: %w", opName(op), v.Variable, err)
			}
			p = p.set("default", def)
		}
		props = props.set(v.Variable, p)
		if v.Type.NonNull && v.DefaultValue == nil {
			required = append(required, v.Variable)
		}
	}
	root := object{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"type", "object"},
		{"properties", props},
	}
	if len(required) > 0 {
		root = root.set("required", required)
	}
	root = root.set("additionalProperties", false)
	var buf bytes.Buffer
	if err := encode(&buf, root); err != nil {
		return nil, fmt.Errorf("operation %s: %w", opName(op), err)
	}
	return json.RawMessage(buf.Bytes()), nil
}

// Description returns the operation's description (trimmed). It is the
// tool's description, the only thing a model reads to decide whether to call
// the tool, so an operation without one is an error rather than a tool with
// an empty description.
func Description(op *ast.OperationDefinition) (string, error) {
	if op == nil {
		return "", errors.New("mcpadapter: no operation")
	}
	d := unwrap(op.Description)
	if d == "" {
		return "", fmt.Errorf("operation %s has no description: put a \"\"\"…\"\"\" block above it saying what the tool does", opName(op))
	}
	return d, nil
}

// unwrap joins the lines of each paragraph, which the operation file wraps
// for its reader, and keeps blank lines between paragraphs and list items
// on their own lines: a model reads the text, not the file's layout.
func unwrap(s string) string {
	var out strings.Builder
	for i, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if i > 0 {
			out.WriteString("\n\n")
		}
		for j, line := range strings.Split(para, "\n") {
			line = strings.TrimSpace(line)
			if j > 0 {
				if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") || (len(line) > 1 && line[0] >= '0' && line[0] <= '9' && line[1] == '.') {
					out.WriteString("\n")
				} else {
					out.WriteString(" ")
				}
			}
			out.WriteString(line)
		}
	}
	return out.String()
}

// applyDirectives adds the bounds a variable's directives declare to its
// schema p.
func applyDirectives(p object, dirs ast.DirectiveList) (object, error) {
	isArray := p.get("type") == "array"
	for _, d := range dirs {
		args := map[string]any{}
		for _, a := range d.Arguments {
			v, err := a.Value.Value(nil)
			if err != nil {
				return nil, fmt.Errorf("@%s(%s): %w", d.Name, a.Name, err)
			}
			args[a.Name] = v
		}
		switch d.Name {
		case "range":
			p = p.setIf("minimum", args["min"]).setIf("maximum", args["max"])
		case "length":
			if isArray {
				p = p.setIf("minItems", args["min"]).setIf("maxItems", args["max"])
			} else {
				p = p.setIf("minLength", args["min"]).setIf("maxLength", args["max"])
			}
		case "values":
			p = p.set("enum", args["list"])
		case "pattern":
			p = p.set("pattern", args["regex"])
		case "singleOrList":
			if !isArray {
				return nil, errors.New("@singleOrList is for list variables")
			}
			p = object{{"anyOf", []any{p.get("items"), p}}}
		default:
			return nil, fmt.Errorf("@%s is not a tool-argument directive", d.Name)
		}
	}
	return p, nil
}

func opName(op *ast.OperationDefinition) string {
	if op.Name == "" {
		return "(anonymous)"
	}
	return op.Name
}

// typeSchema maps a GraphQL input type to JSON Schema. depth counts the input
// objects already entered on the way here.
func typeSchema(schema *ast.Schema, t *ast.Type, depth int) (object, error) {
	if t.Elem != nil {
		items, err := typeSchema(schema, t.Elem, depth)
		if err != nil {
			return nil, err
		}
		return object{{"type", "array"}, {"items", items}}, nil
	}
	def := schema.Types[t.NamedType]
	if def == nil {
		return nil, fmt.Errorf("unknown type %s", t.NamedType)
	}
	switch def.Kind {
	case ast.Scalar:
		return scalarSchema(def.Name), nil
	case ast.Enum:
		values := make([]any, 0, len(def.EnumValues))
		for _, ev := range def.EnumValues {
			values = append(values, ev.Name)
		}
		return object{{"type", "string"}, {"enum", values}}, nil
	case ast.InputObject:
		return inputObjectSchema(schema, def, depth+1)
	default:
		return nil, fmt.Errorf("%s is a %s, not an input type", def.Name, def.Kind)
	}
}

// scalarSchema maps the schema's scalars to their JSON wire form. Map is a
// JSON object on the wire. A scalar this table does not know gets the empty
// schema, which accepts any value: guessing a type would reject valid input,
// and the server validates the value anyway.
func scalarSchema(name string) object {
	switch name {
	case "String", "ID", "Cursor":
		return object{{"type", "string"}}
	case "Time":
		return object{{"type", "string"}, {"format", "date-time"}}
	case "Int", "Int64":
		return object{{"type", "integer"}}
	case "Float":
		return object{{"type", "number"}}
	case "Boolean":
		return object{{"type", "boolean"}}
	case "Map":
		return object{{"type", "object"}}
	case "BillDate":
		// A day of the month or text: @range bounds the number and @length
		// the text, since JSON Schema applies each to its own type only.
		return object{{"type", []any{"integer", "string"}}}
	default:
		return object{}
	}
}

func inputObjectSchema(schema *ast.Schema, def *ast.Definition, depth int) (object, error) {
	if depth >= maxInputDepth {
		return object{{"type", "object"}}, nil
	}
	props := object{}
	var required []any
	for _, f := range def.Fields {
		p, err := typeSchema(schema, f.Type, depth)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", def.Name, f.Name, err)
		}
		if d := strings.TrimSpace(f.Description); d != "" {
			p = p.set("description", d)
		}
		if f.DefaultValue != nil {
			v, err := f.DefaultValue.Value(nil)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: default: %w", def.Name, f.Name, err)
			}
			p = p.set("default", v)
		}
		props = props.set(f.Name, p)
		if f.Type.NonNull && f.DefaultValue == nil {
			required = append(required, f.Name)
		}
	}
	o := object{{"type", "object"}, {"properties", props}}
	if len(required) > 0 {
		o = o.set("required", required)
	}
	return o.set("additionalProperties", false), nil
}

// object is a JSON object that keeps its members in insertion order, so
// properties read in the order the operation declares them and two runs
// produce the same bytes (a Go map would be sorted by key instead).
type object []member

type member struct {
	key   string
	value any
}

func (o object) set(key string, value any) object { return append(o, member{key, value}) }

// setIf sets key when value is not nil.
func (o object) setIf(key string, value any) object {
	if value == nil {
		return o
	}
	return o.set(key, value)
}

// get returns the value of key, or nil.
func (o object) get(key string) any {
	for _, m := range o {
		if m.key == key {
			return m.value
		}
	}
	return nil
}

// encode writes v as compact JSON, objects in member order. HTML escaping is
// off because descriptions are read by people and models, not embedded in
// HTML, and "<" reads better than "\u003c".
func encode(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case object:
		buf.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encode(buf, m.key); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := encode(buf, m.value); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encode(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	default:
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	}
	return nil
}
