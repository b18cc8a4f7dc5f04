package postgres

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
	"time"

	"mailroom/internal/store/postgres/pgtest"
)

// Store, load, stat, list and delete round trip through two handles (two
// nodes): what one stores the other reads.
func TestACME_StorageRoundTrip(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := mustOpen(t, dsn), mustOpen(t, dsn)
	ctx := t.Context()
	for k, v := range map[string]string{
		"certificates/ca/mx.example.org/mx.example.org.crt": "cert",
		"certificates/ca/mx.example.org/mx.example.org.key": "key",
		"certificates/ca/mx.example.orgx/other.crt":         "other",
		"acme/ca/users/a@example.org/a.json":                "{}",
	} {
		if err := a.PutACME(ctx, k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	const crt = "certificates/ca/mx.example.org/mx.example.org.crt"
	if err := a.PutACME(ctx, crt, []byte("renewed")); err != nil {
		t.Fatal(err)
	}
	v, mod, err := b.GetACME(ctx, crt)
	if err != nil || string(v) != "renewed" || mod.IsZero() {
		t.Fatalf("get = %q, %v, %v; want renewed", v, mod, err)
	}
	if size, _, found, err := b.StatACME(ctx, crt); err != nil || !found || size != int64(len("renewed")) {
		t.Fatalf("stat = %d, %v, %v", size, found, err)
	}
	keys, err := b.ACMEKeys(ctx, "certificates/ca/mx.example.org")
	if want := []string{crt, "certificates/ca/mx.example.org/mx.example.org.key"}; err != nil || !slices.Equal(keys, want) {
		t.Fatalf("keys = %q, %v; want %q", keys, err, want)
	}
	if all, err := b.ACMEKeys(ctx, ""); err != nil || len(all) != 4 {
		t.Fatalf("all keys = %q, %v; want 4", all, err)
	}
	if err := b.DeleteACME(ctx, "certificates/ca/mx.example.org"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.GetACME(ctx, crt); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("get after delete: %v; want fs.ErrNotExist", err)
	}
	if _, _, found, err := a.StatACME(ctx, crt); err != nil || found {
		t.Fatalf("stat after delete = %v, %v", found, err)
	}
	if _, _, err := a.GetACME(ctx, "certificates/ca/mx.example.orgx/other.crt"); err != nil {
		t.Fatalf("a sibling sharing the prefix was deleted: %v", err)
	}
	if err := b.DeleteACME(ctx, "no/such/key"); err != nil {
		t.Fatalf("delete of a missing key: %v", err)
	}
}

// A lock is held by one owner at a time; a holder whose time ran out (it
// stopped refreshing) loses it to the next, and its late Unlock does not
// release the new holder's lock.
func TestACME_LockExpires(t *testing.T) {
	dsn := pgtest.DSN(t)
	a, b := mustOpen(t, dsn), mustOpen(t, dsn)
	ctx := t.Context()
	lock := func(db *DB, owner string) bool {
		t.Helper()
		ok, err := db.TryLockACME(ctx, "issue_cert_mx.example.org", owner, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !lock(a, "node-a") {
		t.Fatal("a: lock of a free name refused")
	}
	if lock(b, "node-b") {
		t.Fatal("b: took a lock a holds")
	}
	if ok, err := a.RefreshLockACME(ctx, "issue_cert_mx.example.org", "node-a", time.Hour); err != nil || !ok {
		t.Fatalf("a: refresh = %v, %v", ok, err)
	}
	// a stops refreshing (its node died) and its time runs out.
	if _, err := a.pool.Exec(ctx, `UPDATE acme_locks SET expires = expires - 2 * 3600000000000`); err != nil {
		t.Fatal(err)
	}
	if !lock(b, "node-b") {
		t.Fatal("b: expired lock not taken")
	}
	if ok, err := a.RefreshLockACME(ctx, "issue_cert_mx.example.org", "node-a", time.Hour); err != nil || ok {
		t.Fatalf("a: refresh of a lost lock = %v, %v; want false", ok, err)
	}
	if err := a.UnlockACME(ctx, "issue_cert_mx.example.org", "node-a"); err != nil {
		t.Fatal(err)
	}
	if lock(a, "node-a") {
		t.Fatal("a's late unlock released b's lock")
	}
	if err := b.UnlockACME(ctx, "issue_cert_mx.example.org", "node-b"); err != nil {
		t.Fatal(err)
	}
	if !lock(a, "node-a") {
		t.Fatal("a: lock refused after b's unlock")
	}
}
