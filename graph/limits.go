package graph

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Limits bounds what one operation may cost before any resolver runs. gqlgen
// has no depth or alias limit and its complexity does not grow with page
// sizes, so this walks the operation once and checks all three, counting a
// connection's subtree once per row it may return.
type Limits struct {
	MaxDepth      int // nesting of selections
	MaxAliases    int // aliased fields, which otherwise multiply one request into many
	MaxComplexity int // fields, each connection's subtree multiplied by its page size
	MaxPage       int // largest first/last a connection accepts
}

// DefaultLimits fit the dashboard's and the tools' largest real queries with
// room to spare.
var DefaultLimits = Limits{MaxDepth: 12, MaxAliases: 30, MaxComplexity: 20000, MaxPage: 200}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Limits{}

// ExtensionName implements graphql.HandlerExtension.
func (Limits) ExtensionName() string { return "TandemLimits" }

// Validate implements graphql.HandlerExtension.
func (Limits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (l Limits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	w := &limitWalker{limits: l, oc: oc}
	cost, err := w.walk(oc.Operation.SelectionSet, 1)
	if err != nil {
		return err
	}
	if w.aliases > l.MaxAliases {
		return limitError("the operation uses %d aliases; at most %d are allowed", w.aliases, l.MaxAliases)
	}
	if cost > l.MaxComplexity {
		return limitError("the operation may touch %d fields (page sizes multiplied through); at most %d are allowed: ask for smaller pages or fewer fields", cost, l.MaxComplexity)
	}
	return nil
}

type limitWalker struct {
	limits  Limits
	oc      *graphql.OperationContext
	aliases int
	visits  int
}

func (w *limitWalker) walk(set ast.SelectionSet, depth int) (int, *gqlerror.Error) {
	cost := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if len(s.Name) > 1 && s.Name[:2] == "__" {
				continue // introspection: dev only, and its depth is fixed by the spec
			}
			if depth > w.limits.MaxDepth {
				return 0, limitError("the operation nests deeper than %d levels at %q", w.limits.MaxDepth, s.Name)
			}
			// Every field visited adds at least 1 to the cost, so once the
			// visits pass the limit the cost has too. Stopping here keeps
			// fragments that spread each other many times from costing the
			// server exponential work before any limit is checked.
			if w.visits++; w.visits > w.limits.MaxComplexity {
				return 0, limitError("the operation may touch more than %d fields (fragments included); at most %d are allowed", w.limits.MaxComplexity, w.limits.MaxComplexity)
			}
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			child, err := w.walk(s.SelectionSet, depth+1)
			if err != nil {
				return 0, err
			}
			rows, err := w.pageSize(s)
			if err != nil {
				return 0, err
			}
			// Saturate rather than overflow: past the limit the exact cost is moot.
			cost = min(cost+1+rows*min(child, w.limits.MaxComplexity+1), (w.limits.MaxComplexity+1)*2)
		case *ast.InlineFragment:
			c, err := w.walk(s.SelectionSet, depth)
			if err != nil {
				return 0, err
			}
			cost += c
		case *ast.FragmentSpread:
			if s.Definition == nil {
				continue
			}
			c, err := w.walk(s.Definition.SelectionSet, depth)
			if err != nil {
				return 0, err
			}
			cost += c
		}
	}
	return cost, nil
}

// pageSize returns how many rows a field can return: its first or last for a
// connection, which must be given (as on GitHub's API) so no query can ask
// for a whole table, and 1 for any other field.
func (w *limitWalker) pageSize(f *ast.Field) (int, *gqlerror.Error) {
	if f.Definition != nil && f.Definition.Arguments.ForName("ids") != nil {
		ids, _ := f.ArgumentMap(w.oc.Variables)["ids"].([]any)
		if len(ids) > w.limits.MaxPage {
			return 0, inputError("ids", "%s: at most %d ids at once", f.Name, w.limits.MaxPage)
		}
		return max(len(ids), 1), nil
	}
	if f.Definition == nil || f.Definition.Arguments.ForName("first") == nil || f.Definition.Arguments.ForName("last") == nil {
		return 1, nil
	}
	args := f.ArgumentMap(w.oc.Variables)
	for _, name := range []string{"first", "last"} {
		v, ok := args[name]
		if !ok || v == nil {
			continue
		}
		n, isInt := toInt(v)
		if !isInt || n < 0 || n > w.limits.MaxPage {
			return 0, inputError(name, "%s.%s must be between 0 and %d", f.Name, name, w.limits.MaxPage)
		}
		return max(n, 1), nil
	}
	return 0, inputError("first", "%s: pass first or last (1 to %d) to page through it", f.Name, w.limits.MaxPage)
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case int32:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

func limitError(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": CodeQueryTooComplex},
	}
}

func inputError(field, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": CodeBadUserInput, "field": field},
	}
}
