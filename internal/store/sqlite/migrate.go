package sqlite

import (
	"context"
	"embed"
	"fmt"

	"mailroom/internal/store/sqlstore"
)

// SQLite has no migrations of its own: its whole schema is sqlstore's
// shared history, rendered with types().
var noMigrations embed.FS

// types are SQLite's column types of the shared migrations. STRICT
// tables: a column holds only its declared type.
func types() sqlstore.Types {
	return sqlstore.Types{
		ID:       "INTEGER PRIMARY KEY AUTOINCREMENT",
		RowID:    "INTEGER PRIMARY KEY",
		Int64:    "INTEGER",
		Name:     "TEXT",
		Bytes:    "BLOB",
		Networks: "TEXT NOT NULL DEFAULT '[]'",
		Strict:   " STRICT",
		Dialect:  "sqlite",
		Boolean: func(col string, def bool) string {
			d := 0
			if def {
				d = 1
			}
			return fmt.Sprintf("INTEGER NOT NULL DEFAULT %d CHECK (%s IN (0, 1))", d, col)
		},
	}
}

// loadMigrations returns the schema history in version order.
func loadMigrations() ([]sqlstore.Migration, error) {
	return sqlstore.Migrations(types(), noMigrations)
}

// migrate applies the migrations the database has not recorded yet, each in
// its own IMMEDIATE transaction (sqlstore.DB.Migrate).
func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	return db.Migrate(ctx, types(), ms, nil)
}
