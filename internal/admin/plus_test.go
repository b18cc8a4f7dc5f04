package admin

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"mailroom/internal/store/sqlite"
)

// newTestService returns a Service on a new SQLite database, hashing
// cheaply, and the database.
func newTestService(t *testing.T) (*Service, *sqlite.DB) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := New(st)
	a.Params.Time, a.Params.Memory = 1, 1024
	return a, st
}

// TestAddress_PlusSeparatorRefused: no mailbox or alias is named with
// the plus separator in its local part, since its untagged form would
// belong to someone else; the error names the setting.
func TestAddress_PlusSeparatorRefused(t *testing.T) {
	ctx := context.Background()
	a, st := newTestService(t)
	if _, err := a.AddDomain(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.AddMailbox(ctx, NewMailbox{Address: "alice@example.com", Password: "correct-horse-battery"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, sep, mailbox, alias string
		ok                        bool
	}{
		{"tagged mailbox", "+", "alice+bot@example.com", "", false},
		{"tagged shared mailbox", "+", "Sales+EU@example.com", "", false},
		{"separator first", "+", "+alice@example.com", "", false},
		{"tagged alias", "+", "", "alice+news@example.com", false},
		{"plain alias", "+", "", "team@example.com", true},
		{"hyphen is a plain character", "+", "mary-jane@example.com", "", true},
		{"plus-addressing off", "", "bob+bot@example.com", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a.PlusSeparator = tc.sep
			var err error
			if tc.mailbox != "" {
				_, _, err = a.AddMailbox(ctx, NewMailbox{Address: tc.mailbox, Shared: strings.Contains(tc.name, "shared")})
			} else {
				_, err = a.AddAlias(ctx, "alice@example.com", tc.alias)
			}
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "addresses.plus_separator") {
				t.Fatalf("err = %v, want ErrInvalid naming addresses.plus_separator", err)
			}
		})
	}
	if New(st).PlusSeparator != "+" {
		t.Error("New does not default to the configuration's default separator")
	}
}
