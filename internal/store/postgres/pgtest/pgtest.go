// Package pgtest owns what tests need to run against PostgreSQL: a fresh,
// empty schema per test in the database MAILROOM_TEST_POSTGRES_DSN names,
// or a skip with the reason when it is not set. Test code only.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable with the test database's DSN.
// .ci/postgres.sh starts a private PostgreSQL and sets it (README
// "PostgreSQL").
const EnvDSN = "MAILROOM_TEST_POSTGRES_DSN"

// BaseDSN returns the test database's DSN, or skips tb when none is set.
func BaseDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		tb.Skipf("%s is not set: no PostgreSQL to test against (source .ci/postgres.sh starts one; README \"PostgreSQL\")", EnvDSN)
	}
	return dsn
}

// DSN creates an empty schema in the test database, drops it when the test
// ends, and returns a DSN whose search_path selects it: each test gets a
// database of its own without creating databases. It skips tb when no test
// database is set.
func DSN(tb testing.TB) string {
	tb.Helper()
	dsn := BaseDSN(tb)
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		tb.Fatal(err)
	}
	schema := "mailroom_test_" + hex.EncodeToString(rnd[:])
	exec(tb, dsn, `CREATE SCHEMA `+schema)
	tb.Cleanup(func() { exec(tb, dsn, `DROP SCHEMA `+schema+` CASCADE`) })
	return WithSearchPath(tb, dsn, schema)
}

// exec runs one statement on its own connection (tb.Context may be done:
// cleanups use it).
func exec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect to %s: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// WithSearchPath returns dsn with the run-time parameter search_path set
// to schema.
func WithSearchPath(tb testing.TB, dsn, schema string) string {
	tb.Helper()
	return WithParam(tb, dsn, "search_path", schema)
}

// WithParam returns dsn with the connection parameter key set to value
// (a plain word), in dsn's own form (URL or keyword=value).
func WithParam(tb testing.TB, dsn, key, value string) string {
	tb.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("parse %s: %v", EnvDSN, err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " " + key + "=" + value
}
