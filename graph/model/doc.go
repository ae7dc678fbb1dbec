// Package model holds GraphQL types that have no ent entity behind them;
// gqlgen writes them to models_gen.go when the schema declares any.
package model
