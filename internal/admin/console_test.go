package admin

import (
	"errors"
	"testing"

	"mailroom/internal/config"
)

// TestRemoveConsoleUser_KeepsTheLast: the last console user cannot be
// removed (nobody could log in to the console again); with another, it can.
func TestRemoveConsoleUser_KeepsTheLast(t *testing.T) {
	a := testService(t)
	ctx := t.Context()
	if _, err := a.AddConsoleUser(ctx, "root", "long-enough"); err != nil {
		t.Fatal(err)
	}
	if err := a.RemoveConsoleUser(ctx, "root"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("remove the last console user: %v, want ErrInvalid", err)
	}
	if _, err := a.AddConsoleUser(ctx, "ops", "long-enough"); err != nil {
		t.Fatal(err)
	}
	if err := a.RemoveConsoleUser(ctx, "root"); err != nil {
		t.Fatalf("remove one of two console users: %v", err)
	}
	if err := a.RemoveConsoleUser(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove a missing console user: %v, want ErrNotFound", err)
	}
	if us, err := a.ConsoleUsers(ctx); err != nil || len(us) != 1 || us[0].Name != "ops" {
		t.Fatalf("console users after: %+v %v", us, err)
	}
}

// testService is a Service on a fresh SQLite store that hashes cheaply.
func testService(t *testing.T) *Service {
	t.Helper()
	cfg := config.Default()
	cfg.SetDir(t.TempDir())
	st, err := OpenStore(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := New(st)
	a.Params.Time, a.Params.Memory = 1, 1024
	return a
}
