package mcpadapter

import (
	"encoding/json"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tandemhq/tandem/graph"
)

// Resource is one MCP resource: a query operation file marked
// @resource(uri:, name:, mimeType:), read like a tool without arguments. As
// with tools, the file is the whole definition: its description is the
// resource's description, its root field the document.
type Resource struct {
	Name   string       // the operation's name
	Def    mcp.Resource // what resources/list shows
	schema *ast.Schema
	root   *ast.Field // the operation's only root field, the document
}

// isResource reports whether an operation declares a resource rather than a tool.
func isResource(op *ast.OperationDefinition) bool {
	return op.Directives.ForName("resource") != nil
}

// Resources derives a resource from every @resource operation the runner loaded.
func Resources(schema *ast.Schema, runner *graph.Runner) ([]*Resource, error) {
	var out []*Resource
	for _, name := range runner.Names() {
		op := runner.Operation(name)
		if !isResource(op.Definition) {
			continue
		}
		res, err := newResource(schema, op)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

func newResource(schema *ast.Schema, op *graph.Operation) (*Resource, error) {
	def := op.Definition
	if def.Operation != ast.Query {
		return nil, fmt.Errorf("operation %s: a resource is read, so it is a query", op.Name)
	}
	if len(def.VariableDefinitions) > 0 {
		return nil, fmt.Errorf("operation %s: a resource takes no arguments; make it a tool", op.Name)
	}
	desc, err := Description(def)
	if err != nil {
		return nil, err
	}
	if _, err := outputSchema(schema, def); err != nil {
		return nil, err // the root field must be an object, a list or a connection, as for tools
	}
	d := def.Directives.ForName("resource")
	uri, name, mime := stringArg(d, "uri"), stringArg(d, "name"), stringArg(d, "mimeType")
	if uri == "" || name == "" || mime == "" {
		return nil, fmt.Errorf("operation %s: @resource needs uri, name and mimeType", op.Name)
	}
	root, err := rootField(def) // outputSchema has checked it
	if err != nil {
		return nil, err
	}
	return &Resource{
		Name: op.Name, schema: schema, root: root,
		Def: mcp.NewResource(uri, name, mcp.WithResourceDescription(desc), mcp.WithMIMEType(mime)),
	}, nil
}

// Text is the resource's document for the operation's data: the reshaped
// root field as JSON.
func (res *Resource) Text(data json.RawMessage) (string, error) {
	obj, err := reshapeRoot(res.schema, res.root, data)
	if err != nil {
		return "", err
	}
	return string(encodeObject(obj)), nil
}

func stringArg(d *ast.Directive, name string) string {
	a := d.Arguments.ForName(name)
	if a == nil {
		return ""
	}
	v, _ := a.Value.Value(nil)
	s, _ := v.(string)
	return s
}
