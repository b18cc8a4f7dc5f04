package sqlite

import "testing"

func TestPositional(t *testing.T) {
	for q, want := range map[string]string{
		`INSERT INTO t (a, b) VALUES ($1, $2)`:             `INSERT INTO t (a, b) VALUES (?, ?)`,
		`INSERT INTO t (a) VALUES ($1, 0, $2)`:             `INSERT INTO t (a) VALUES (?, 0, ?)`,
		`SELECT 1`:                                         `SELECT 1`,
		`SELECT $1 WHERE x = $1`:                           `SELECT $1 WHERE x = $1`, // used twice
		`SELECT $2, $1`:                                    `SELECT $2, $1`,          // out of order
		`SELECT '$' || $1`:                                 `SELECT '$' || $1`,       // a lone $
		`UPDATE t SET a = $1 WHERE b = $10`:                `UPDATE t SET a = $1 WHERE b = $10`,
		`VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`: `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	} {
		if got := positional(q); got != want {
			t.Errorf("positional(%q) = %q, want %q", q, got, want)
		}
	}
}
