package graph

import (
	"context"
	"log/slog"
	"strings"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tandemhq/tandem/audit"
	"github.com/tandemhq/tandem/ent"
	"github.com/tandemhq/tandem/viewer"
)

// Executor is what the HTTP handler and the in-process executor (for MCP and
// REST) have in common; Configure sets both up identically, so every surface
// runs the same limits, error codes and transactions.
type Executor interface {
	Use(graphql.HandlerExtension)
	SetErrorPresenter(graphql.ErrorPresenterFunc)
	SetRecoverFunc(graphql.RecoverFunc)
	SetQueryCache(graphql.Cache[*ast.QueryDocument])
	SetDisableSuggestion(bool)
	AroundOperations(graphql.OperationMiddleware)
	AroundFields(graphql.FieldMiddleware)
}

// Options configure the GraphQL core.
type Options struct {
	Logger *slog.Logger
	Dev    bool // introspection and "did you mean" hints
	Limits Limits
}

// Configure installs Tandem's extensions on e.
func Configure(e Executor, client *ent.Client, opts Options) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits
	}
	e.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	e.SetErrorPresenter(presentError(opts.Logger, opts.Dev))
	e.SetRecoverFunc(recoverPanic(opts.Logger))
	e.SetDisableSuggestion(!opts.Dev)
	if opts.Dev {
		e.Use(extension.Introspection{})
	}
	e.Use(opts.Limits)
	// Each mutation runs in one transaction: its effect and its audit row commit together.
	e.Use(entgql.Transactioner{TxOpener: client})
	e.AroundOperations(auditReads(audit.NewBatcher(client, opts.Logger), opts.Logger))
	// An affiliate-scoped token reaches only fields marked @affiliateAccess.
	e.AroundFields(affiliateScope)
}

// auditReads writes one audit row for every query an AI assistant or a
// partner's server makes (mutations are audited per row by the audit hook):
// the seed promises every MCP tool call lands in the audit log. People's
// dashboard reads are not logged; they would drown the log.
func auditReads(reads *audit.Batcher, log *slog.Logger) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		v := viewer.FromContext(ctx)
		if oc.Operation == nil || oc.Operation.Operation != ast.Query || v == nil ||
			(v.ActorType != viewer.ActorMCP && v.ActorType != viewer.ActorAPIKey) {
			return next(ctx)
		}
		var fields []string
		for _, sel := range oc.Operation.SelectionSet {
			if f, ok := sel.(*ast.Field); ok && !strings.HasPrefix(f.Name, "__") {
				fields = append(fields, f.Name)
			}
		}
		name := oc.Operation.Name
		if name == "" {
			name = strings.Join(fields, ",")
		}
		// The read runs while its row is written (rows are written in
		// groups, a little later under load); its answer leaves only once
		// the row is stored, and is replaced by an error if it cannot be.
		stored := reads.Begin(ctx, "query."+name, "", "", map[string]any{"fields": fields})
		respond := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			resp := respond(ctx)
			if err := stored(); err != nil {
				log.ErrorContext(ctx, "audit: recording a read failed; refusing it", "err", err)
				return graphql.ErrorResponse(ctx, "internal error: the call could not be audited, so it was not answered")
			}
			return resp
		}
	}
}
