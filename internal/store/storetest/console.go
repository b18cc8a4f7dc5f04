package storetest

import (
	"errors"
	"testing"

	"mailroom/internal/store"
)

var consoleTests = []test{
	{"AddLookUpRemove", testConsoleUsers},
}

// testConsoleUsers: a console user is stored once by name, found, listed,
// given a new hash and removed.
func testConsoleUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, err := s.AddConsoleUser(ctx, store.ConsoleUser{Name: "root", PasswordHash: "h1"})
	noErr(t, err, "add console user")
	if u.ID == 0 || u.CreatedAt.IsZero() {
		t.Fatalf("added %+v: no ID or CreatedAt", u)
	}
	if _, err := s.AddConsoleUser(ctx, store.ConsoleUser{Name: "root", PasswordHash: "h2"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second root: %v, want ErrConflict", err)
	}
	noErr(t, s.SetConsolePassword(ctx, "root", "h3"), "set password")
	got, err := s.ConsoleUser(ctx, "root")
	noErr(t, err, "look up")
	if got.ID != u.ID || got.PasswordHash != "h3" {
		t.Fatalf("looked up %+v", got)
	}
	all, err := s.ConsoleUsers(ctx)
	noErr(t, err, "list")
	if len(all) != 1 || all[0].Name != "root" {
		t.Fatalf("listed %+v", all)
	}
	noErr(t, s.RemoveConsoleUser(ctx, "root"), "remove")
	if _, err := s.ConsoleUser(ctx, "root"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after remove: %v, want ErrNotFound", err)
	}
	if err := s.RemoveConsoleUser(ctx, "root"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("remove twice: %v, want ErrNotFound", err)
	}
	if err := s.SetConsolePassword(ctx, "root", "h4"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("set password of nobody: %v, want ErrNotFound", err)
	}
}
