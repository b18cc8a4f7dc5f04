package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// directoryChannel is the LISTEN/NOTIFY channel of directory changes. The
// payload is the schema written, since one database may hold several
// (tests do): a listener ignores other schemas' changes.
const directoryChannel = "mailroom_directory"

// notifyDirectory is sent inside every directory write's transaction;
// PostgreSQL delivers it when (and only if) that transaction commits.
const notifyDirectory = `SELECT pg_notify('` + directoryChannel + `', current_schema())`

// ListenDirectory calls changed whenever a directory write of this schema
// commits, from any process on the database, until ctx ends or the
// connection fails (the error says which; ctx's end returns ctx.Err()).
// It calls changed once as soon as it listens, since changes made while
// no one listened were not delivered. It uses a connection of its own,
// outside the pool.
func (db *DB) ListenDirectory(ctx context.Context, changed func()) error {
	conn, err := pgx.ConnectConfig(ctx, db.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("listen for directory changes: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("listen for directory changes: %w", err)
	}
	if _, err := conn.Exec(ctx, `LISTEN `+directoryChannel); err != nil {
		return fmt.Errorf("listen for directory changes: %w", err)
	}
	changed()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("wait for directory changes: %w", err)
		}
		if n.Payload == schema {
			changed()
		}
	}
}
