package mcpadapter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tandemhq/tandem/graph"
)

// Tool is one MCP tool: an operation file and everything derived from it.
type Tool struct {
	Name string
	Read bool // a query: safe for read-only tokens
	// ForAffiliates: the root field is marked @affiliateAccess, so an
	// affiliate-scoped token may call it (the core enforces this; the flag
	// only decides what such a token is shown).
	ForAffiliates bool
	Def           mcp.Tool // what tools/list shows
	schema        *ast.Schema
	root          *ast.Field // the operation's only root field, its result
	// verbatimPrefix is the data's opening ({"alias":) when the root field's
	// value already is the result (see verbatim); nil when it is reshaped.
	verbatimPrefix []byte
	validator      *argumentValidator
	// maxResultChars bounds the result's JSON text (0: unbounded): see truncate.
	maxResultChars int
	// renames are the GraphQL names the operation passes its variables
	// under, where they differ, for refusals to name the tool's arguments.
	renames []rename
}

type rename struct {
	field, variable string
	word            *regexp.Regexp
}

// Tools derives a tool from every operation the runner loaded (except
// @resource ones, see Resources). It refuses a file that would make a poor
// or unsafe tool: no description, more than one root field, a mutation
// without @tool, a paged result without pageInfo.
func Tools(schema *ast.Schema, runner *graph.Runner) ([]*Tool, error) {
	return Toolset{}.Tools(schema, runner)
}

// Tools derives the toolset's tools from the operations runner loaded from
// ts.Files.
func (ts Toolset) Tools(schema *ast.Schema, runner *graph.Runner) ([]*Tool, error) {
	var tools []*Tool
	for _, name := range runner.Names() {
		op := runner.Operation(name)
		if isResource(op.Definition) {
			continue
		}
		t, err := newTool(schema, op, ts.MaxResultChars)
		if err != nil {
			return nil, err
		}
		tools = append(tools, t)
	}
	return tools, nil
}

func newTool(schema *ast.Schema, op *graph.Operation, maxResultChars int) (*Tool, error) {
	def := op.Definition
	desc, err := Description(def)
	if err != nil {
		return nil, err
	}
	in, err := InputSchema(schema, def)
	if err != nil {
		return nil, err
	}
	outSchema, err := outputSchema(schema, def)
	if err != nil {
		return nil, err
	}
	t := &Tool{Name: op.Name, schema: schema}
	if maxResultChars > 0 {
		t.maxResultChars = maxResultChars
		outSchema = withTruncated(outSchema, maxResultChars)
	}
	var out bytes.Buffer
	if err := encode(&out, outSchema); err != nil {
		return nil, fmt.Errorf("operation %s: %w", op.Name, err)
	}
	// outputSchema has checked that the root field is one and validated.
	if t.root, err = rootField(def); err != nil {
		return nil, err
	}
	t.ForAffiliates = t.root.Definition.Directives.ForName("affiliateAccess") != nil
	if verbatim(schema, t.root) {
		t.verbatimPrefix = verbatimPrefix(t.root)
	}
	var ann mcp.ToolAnnotation
	switch def.Operation {
	case ast.Query:
		t.Read = true
		ann = mcp.ToolAnnotation{ReadOnlyHint: mcp.ToBoolPtr(true), DestructiveHint: mcp.ToBoolPtr(false), IdempotentHint: mcp.ToBoolPtr(true)}
		if def.Directives.ForName("tool") != nil {
			return nil, fmt.Errorf("operation %s: @tool describes writes; a query is a read", op.Name)
		}
	case ast.Mutation:
		d := def.Directives.ForName("tool")
		if d == nil {
			return nil, fmt.Errorf("operation %s: a write tool says how it behaves: add @tool(destructive: …, idempotent: …) after its variables", op.Name)
		}
		ann = mcp.ToolAnnotation{ReadOnlyHint: mcp.ToBoolPtr(false),
			DestructiveHint: mcp.ToBoolPtr(boolArg(d, "destructive")), IdempotentHint: mcp.ToBoolPtr(boolArg(d, "idempotent"))}
	default:
		return nil, fmt.Errorf("operation %s: a tool is a query or a mutation", op.Name)
	}
	// Every tool acts on this Tandem organization only, never the open web.
	ann.OpenWorldHint = mcp.ToBoolPtr(false)
	ann.Title = title(op.Name)
	t.Def = mcp.NewToolWithRawSchema(op.Name, desc, in)
	t.Def.RawOutputSchema = out.Bytes()
	t.Def.Annotations = ann
	t.renames = renames(def)
	if t.validator, err = newArgumentValidator(t); err != nil {
		return nil, err
	}
	return t, nil
}

// renames lists the root field's arguments and input fields that take a
// variable of another name (serviceId: $service_id): the core's refusals
// name the former, and an agent knows only the latter.
func renames(def *ast.OperationDefinition) []rename {
	root, err := rootField(def)
	if err != nil {
		return nil
	}
	var out []rename
	var walk func(name string, v *ast.Value)
	walk = func(name string, v *ast.Value) {
		switch v.Kind {
		case ast.Variable:
			if v.Raw != name {
				out = append(out, rename{field: name, variable: v.Raw, word: regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\b`)})
			}
		case ast.ObjectValue:
			for _, c := range v.Children {
				walk(c.Name, c.Value)
			}
		}
	}
	for _, a := range root.Arguments {
		walk(a.Name, a.Value)
	}
	return out
}

// inArgumentNames words a refusal of one field with the tool's argument
// name. Only the refused field is renamed: a GraphQL name such as "first"
// is also an English word elsewhere in a message.
func (t *Tool) inArgumentNames(p graph.PublicError) graph.PublicError {
	for _, r := range t.renames {
		if p.Field == r.field || strings.HasSuffix(p.Field, "."+r.field) {
			p.Field = r.variable
			p.Message = r.word.ReplaceAllLiteralString(p.Message, r.variable)
			p.Next = r.word.ReplaceAllLiteralString(p.Next, r.variable)
			return p
		}
	}
	return p
}

func boolArg(d *ast.Directive, name string) bool {
	a := d.Arguments.ForName(name)
	if a == nil {
		return false
	}
	v, _ := a.Value.Value(nil)
	b, _ := v.(bool)
	return b
}

// title turns list_affiliate_coupons into "List affiliate coupons".
func title(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// Result turns a GraphQL response into the tool's result: the reshaped root
// field as structured content and as JSON text, or, for an error, an
// isError result whose text tells the agent what went wrong and what to do.
func (t *Tool) Result(data json.RawMessage, errs []graph.PublicError) *mcp.CallToolResult {
	if len(errs) > 0 {
		return errorResult(t.inArgumentNames(errs[0]))
	}
	if t.verbatimPrefix != nil {
		if res, ok := verbatimData(t.verbatimPrefix, data, t.maxResultChars); ok {
			return res // nothing to reshape: no decoding and encoding again
		}
	}
	obj, err := reshapeRoot(t.schema, t.root, data)
	if err != nil {
		return errorResult(graph.PublicError{Status: 500, Error: "internal", Message: "the tool returned no result", Next: "Try again in a moment."})
	}
	raw := encodeObject(obj)
	if t.maxResultChars > 0 && utf8.RuneCount(raw) > t.maxResultChars {
		// Encoded once to measure; again only when items were dropped.
		raw = encodeObject(truncate(obj, t.maxResultChars))
	}
	return rawResult(raw, false)
}

func errorResult(p graph.PublicError) *mcp.CallToolResult {
	raw, _ := json.Marshal(p)
	return rawResult(raw, true)
}

// encodeObject is o's JSON text.
func encodeObject(o object) []byte {
	var b bytes.Buffer
	_ = encode(&b, o) // objects built by reshape hold JSON values only
	return b.Bytes()
}

// rawResult is a result whose JSON text is raw.
func rawResult(raw []byte, isError bool) *mcp.CallToolResult {
	res := &mcp.CallToolResult{
		Content: []mcp.Content{mcp.TextContent{Type: "text", Text: string(raw)}},
		IsError: isError,
	}
	if !isError {
		res.StructuredContent = json.RawMessage(raw)
	}
	return res
}
