package mcpadapter

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/tandemhq/tandem/graph"
)

// argumentValidator checks a tool's arguments against its input schema
// before anything runs, and words each failure for an agent: which
// argument, what is allowed, what it sent. (mcp-go can validate too, but its
// messages are Go structs printed as text.)
type argumentValidator struct {
	schema *jsonschema.Schema
	params []string // the tool's argument names, for "unknown argument" errors
}

func newArgumentValidator(t *Tool) (*argumentValidator, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(t.Def.RawInputSchema))
	if err != nil {
		return nil, fmt.Errorf("tool %s: input schema: %w", t.Name, err)
	}
	c := jsonschema.NewCompiler()
	loc := "tandem:///tools/" + t.Name + ".json"
	if err := c.AddResource(loc, doc); err != nil {
		return nil, fmt.Errorf("tool %s: input schema: %w", t.Name, err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("tool %s: input schema: %w", t.Name, err)
	}
	v := &argumentValidator{schema: sch}
	if m, ok := doc.(map[string]any); ok {
		if props, ok := m["properties"].(map[string]any); ok {
			for name := range props {
				v.params = append(v.params, name)
			}
		}
	}
	sort.Strings(v.params)
	return v, nil
}

// validate returns nil when args satisfy the schema, else the public error
// the tool answers with.
func (v *argumentValidator) validate(args map[string]any) *graph.PublicError {
	if args == nil {
		args = map[string]any{}
	}
	// args are decoded JSON (maps, slices, strings, bools, numbers), which
	// the validator takes as they are.
	err := v.schema.Validate(args)
	var ve *jsonschema.ValidationError
	if err == nil || !errors.As(err, &ve) {
		return nil
	}
	var msgs []string
	field := ""
	for _, leaf := range leaves(ve) {
		name := strings.Join(leaf.InstanceLocation, ".")
		if field == "" {
			field = name
		}
		msgs = append(msgs, v.describe(name, leaf.ErrorKind))
	}
	msgs = dedupe(msgs)
	return invalidArguments(field, strings.Join(msgs, "; "))
}

func invalidArguments(field, msg string) *graph.PublicError {
	return &graph.PublicError{Status: http.StatusBadRequest, Error: "invalid_argument", Message: msg, Field: field,
		Next: "Fix the argument as the message says and call the tool again; its input schema lists every argument and its bounds."}
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

var printer = message.NewPrinter(language.English)

func (v *argumentValidator) describe(name string, k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Required:
		return "missing required argument " + strings.Join(k.Missing, ", ")
	case *kind.AdditionalProperties:
		if len(v.params) == 0 {
			return "unknown argument " + strings.Join(k.Properties, ", ") + "; this tool takes no arguments"
		}
		return "unknown argument " + strings.Join(k.Properties, ", ") + "; this tool takes " + strings.Join(v.params, ", ")
	case *kind.Type:
		return fmt.Sprintf("%s must be %s, not %s", name, strings.Join(k.Want, " or "), k.Got)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return fmt.Sprintf("%s must be one of %s (got %v)", name, strings.Join(want, ", "), k.Got)
	case *kind.Minimum:
		return fmt.Sprintf("%s must be at least %s (got %s)", name, k.Want.RatString(), k.Got.RatString())
	case *kind.Maximum:
		return fmt.Sprintf("%s must be at most %s (got %s)", name, k.Want.RatString(), k.Got.RatString())
	case *kind.MinLength:
		return fmt.Sprintf("%s must be at least %d characters (got %d)", name, k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("%s must be at most %d characters (got %d)", name, k.Want, k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("%s must have at least %d items (got %d)", name, k.Want, k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("%s must have at most %d items (got %d)", name, k.Want, k.Got)
	case *kind.Pattern:
		return fmt.Sprintf("%s must match %s (got %q)", name, k.Want, k.Got)
	}
	if name == "" {
		return k.LocalizedString(printer)
	}
	return name + ": " + k.LocalizedString(printer)
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, m := range s {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}
