package graph

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/tandemhq/tandem/ent"
)

// Operation is one named GraphQL operation from a .graphql file: what an MCP
// tool or a REST endpoint runs. Its file name, without .graphql, is its name
// and must equal the operation's name.
type Operation struct {
	Name       string
	Query      string
	Definition *ast.OperationDefinition // parsed and validated against the schema
}

// Runner executes named operations in-process, through the same executor
// configuration (limits, error codes, transactions, audit) as /graphql. No
// adapter talks to ent: it runs an operation here.
type Runner struct {
	exec *executor.Executor
	ops  map[string]*Operation
}

// NewRunner parses every *.graphql file in files and validates it against
// the schema; a file that does not parse or validate stops startup with a
// message naming it.
func NewRunner(es graphql.ExecutableSchema, client *ent.Client, opts Options, files fs.FS) (*Runner, error) {
	exec := executor.New(es)
	Configure(exec, client, opts)
	r := &Runner{exec: exec, ops: map[string]*Operation{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".graphql") {
			return err
		}
		src, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		op, err := parseOperation(es, p, string(src))
		if err != nil {
			return err
		}
		if _, dup := r.ops[op.Name]; dup {
			return fmt.Errorf("%s: a second operation named %s", p, op.Name)
		}
		r.ops[op.Name] = op
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func parseOperation(es graphql.ExecutableSchema, file, src string) (*Operation, error) {
	name := strings.TrimSuffix(path.Base(file), ".graphql")
	doc, errs := gqlparser.LoadQueryWithRules(es.Schema(), src, nil)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", file, errs.Error())
	}
	if len(doc.Operations) != 1 {
		return nil, fmt.Errorf("%s: holds %d operations; an operation file holds exactly one", file, len(doc.Operations))
	}
	def := doc.Operations[0]
	if def.Name != name {
		return nil, fmt.Errorf("%s: the operation is named %q; name it after its file, %q", file, def.Name, name)
	}
	return &Operation{Name: name, Query: src, Definition: def}, nil
}

// Operation returns the named operation, or nil.
func (r *Runner) Operation(name string) *Operation { return r.ops[name] }

// Names lists the operations, sorted.
func (r *Runner) Names() []string {
	names := make([]string, 0, len(r.ops))
	for n := range r.ops {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Run executes the named operation with vars as the viewer in ctx. The
// response carries data and errors exactly as /graphql would.
func (r *Runner) Run(ctx context.Context, name string, vars map[string]any) *graphql.Response {
	op := r.ops[name]
	if op == nil {
		return &graphql.Response{Errors: gqlerror.List{{Message: "unknown operation " + name, Extensions: map[string]any{"code": CodeNotFound}}}}
	}
	ctx = graphql.StartOperationTrace(ctx)
	now := graphql.Now()
	rc, errs := r.exec.CreateOperationContext(ctx, &graphql.RawParams{
		Query: op.Query, OperationName: name, Variables: vars,
		ReadTime: graphql.TraceTiming{Start: now, End: now},
	})
	if errs != nil {
		return r.exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
	}
	responses, ctx := r.exec.DispatchOperation(ctx, rc)
	return responses(ctx)
}
