package graph

import (
	"log/slog"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/tandemhq/tandem/ent"
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
}
