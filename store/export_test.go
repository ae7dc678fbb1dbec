package store

import "context"

// MigrateUpTo exposes migrateUpTo to tests that start from an older schema.
func (db *DB) MigrateUpTo(ctx context.Context, version string) ([]string, error) {
	return db.migrateUpTo(ctx, version)
}
