package directory

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlite"
)

// testParams make cheap hashes: argon2id at DefaultParams takes seconds
// under the race detector. Tests of the production cost use DefaultParams.
var testParams = Params{Memory: 1024, Time: 1, Threads: 1, KeyLen: 32}

func openDirectory(t *testing.T, ttl time.Duration) (*Directory, *sqlite.DB, *time.Time) {
	t.Helper()
	return openDirectoryWith(t, ttl, testParams)
}

// openDirectoryWith is openDirectory with the directory's hash params
// (Params{} is DefaultParams).
func openDirectoryWith(t *testing.T, ttl time.Duration, params Params) (*Directory, *sqlite.DB, *time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateDomain(ctx, "example.com", ""); err != nil {
		t.Fatal(err)
	}
	h, _ := HashPassword("old-password", testParams)
	if _, err := st.CreateMailbox(ctx, store.Mailbox{Address: "a@example.com", Domain: "example.com", PasswordHash: h, SMTPAuth: true, SaveSent: true}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	d, err := New(ctx, st, Options{AuthCacheTTL: ttl, Now: func() time.Time { return now }, HashParams: params})
	if err != nil {
		t.Fatal(err)
	}
	return d, st, &now
}

func TestVerify_AuthCache(t *testing.T) {
	d, st, now := openDirectory(t, time.Minute)
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, ok, _ := d.Verify(ctx, "a@example.com", "old-password"); !ok {
			t.Fatal("right password refused")
		}
	}
	if _, ok, _ := d.Verify(ctx, "a@example.com", "wrong"); ok {
		t.Fatal("wrong password accepted")
	}
	if _, ok, _ := d.Verify(ctx, "a@example.com", "wrong"); ok {
		t.Fatal("wrong password accepted from the cache")
	}
	if hits, _ := d.AuthCacheStats(); hits != 2 {
		t.Fatalf("%d cache hits, want 2 (failures are never cached)", hits)
	}
	*now = now.Add(2 * time.Minute) // past the TTL: hashed again
	d.Verify(ctx, "a@example.com", "old-password")
	if hits, _ := d.AuthCacheStats(); hits != 2 {
		t.Fatalf("an expired entry was used")
	}

	// A password change (any directory write) drops every entry.
	m, _ := st.Mailbox(ctx, "a@example.com")
	m.PasswordHash, _ = HashPassword("new-password", testParams)
	if err := st.UpdateMailbox(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := d.Verify(ctx, "a@example.com", "old-password"); ok {
		t.Fatal("old password still accepted after the change")
	}
	if _, ok, _ := d.Verify(ctx, "a@example.com", "new-password"); !ok {
		t.Fatal("new password refused")
	}
	// SMTP AUTH switched off: the cached credential still verifies (the
	// password is right) but carries the current mailbox, so policy refuses.
	m, _ = st.Mailbox(ctx, "a@example.com")
	m.SMTPAuth = false
	st.UpdateMailbox(ctx, m)
	d.Reload(ctx)
	if c, ok, _ := d.Verify(ctx, "a@example.com", "new-password"); !ok || c.Mailbox.SMTPAuth {
		t.Fatalf("after switch-off: ok=%v smtp_auth=%v", ok, c.Mailbox.SMTPAuth)
	}
}

func TestVerify_AuthCacheOff(t *testing.T) {
	ctx := context.Background()
	d, _, _ := openDirectory(t, 0)
	d.Verify(ctx, "a@example.com", "old-password")
	d.Verify(ctx, "a@example.com", "old-password")
	if hits, _ := d.AuthCacheStats(); hits != 0 {
		t.Fatalf("cache off but %d hits", hits)
	}
}

// BenchmarkVerify compares a login with and without the auth cache, at
// the production argon2id cost.
func BenchmarkVerify(b *testing.B) {
	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{{"argon2id", 0}, {"cached", time.Hour}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			st.CreateDomain(ctx, "example.com", "")
			h, _ := HashPassword("benchpass123", DefaultParams)
			st.CreateMailbox(ctx, store.Mailbox{Address: "a@example.com", Domain: "example.com", PasswordHash: h, SMTPAuth: true})
			d, err := New(ctx, st, Options{AuthCacheTTL: tc.ttl})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, ok, _ := d.Verify(ctx, "a@example.com", "benchpass123"); !ok {
					b.Fatal("refused")
				}
			}
		})
	}
}

// TestVerify_ConcurrentLoginsShareOneHash: 20 connections logging in with
// the same credentials at once pay one argon2id between them.
func TestVerify_ConcurrentLoginsShareOneHash(t *testing.T) {
	ctx := context.Background()
	d, _, _ := openDirectory(t, time.Minute)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, ok, _ := d.Verify(ctx, "a@example.com", "old-password"); !ok {
				t.Error("refused")
			}
		}()
	}
	close(start)
	wg.Wait()
	// Every caller either found the cache filled or waited for the one
	// hash in flight; a late one may start a second after the first ended
	// and was cached, never more than a few.
	if h := d.Hashes(); h < 1 || h > 2 {
		hits, misses := d.AuthCacheStats()
		t.Fatalf("%d hashes for 20 simultaneous logins (hits %d, misses %d)", h, hits, misses)
	}
}
