package store

import (
	"context"
	"fmt"

	"github.com/tandemhq/tandem/ent"
)

// InTx runs fn with the transaction's client, both passed and in ctx
// (ent.FromContext): the caller's transaction when ctx has one, else a new
// one on client, committed when fn succeeds and rolled back when it fails.
func InTx(ctx context.Context, client *ent.Client, fn func(ctx context.Context, c *ent.Client) error) error {
	if ent.TxFromContext(ctx) != nil {
		return fn(ctx, ent.FromContext(ctx))
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return err
	}
	ctx = ent.NewContext(ent.NewTxContext(ctx, tx), tx.Client())
	if err := fn(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}
