package web

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/limits"
)

// TestConsole_LoginGuardBounded: a login form over its size, or a user
// name longer than any console user's, is refused before the name is
// counted or logged in full; and the guard forgets what its window and
// cool-off no longer need as new failures come (it once kept every name
// ever tried: 100 tries of a 1 MB name held 95 MiB for good).
func TestConsole_LoginGuardBounded(t *testing.T) {
	var log lockedBuffer
	guard := &limits.LoginGuard{PerAddress: 1000, PerMailbox: 30, Window: time.Minute, Cooloff: time.Hour}
	srv, now := guardedConsole(t, guard, slog.NewTextHandler(&log, nil))
	c := newConsoleClient(t, srv)
	try := func(name string) (int, string) {
		tok := c.csrf("/login")
		status, _, body := c.do("POST", "/login", url.Values{"csrf": {tok}, "user": {name}, "password": {"wrong-password"}})
		return status, body
	}

	for i := range 100 {
		if status, body := try(fmt.Sprintf("%03d", i) + strings.Repeat("x", 1_000_000)); status != http.StatusRequestEntityTooLarge {
			t.Fatalf("try %d of a 1 MB name: %d, want 413\n%.300s", i, status, body)
		}
	}
	if n := guard.Len(); n > 1 {
		t.Fatalf("after 100 tries of a 1 MB name the guard holds %d entries, want at most 1 (the address)", n)
	}
	long := strings.Repeat("y", admin.MaxConsoleUserName+1)
	for i := range 100 {
		if status, body := try(fmt.Sprintf("%03d", i) + long); status != http.StatusUnauthorized || !strings.Contains(body, "Wrong user name or password") {
			t.Fatalf("try %d of a long name: %d, want 401\n%.300s", i, status, body)
		}
	}
	if n := guard.Len(); n != 1 {
		t.Fatalf("after 100 tries of names over %d octets the guard holds %d entries, want 1 (the address)", admin.MaxConsoleUserName, n)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) < 100 {
		t.Fatalf("%d log lines for 100 failed logins:\n%s", len(lines), log.String())
	}
	for _, l := range lines {
		if len(l) > 400 {
			t.Fatalf("a log line of %d bytes, want the name truncated: %.400s…", len(l), l)
		}
	}

	// Names the console could hold are counted, and forgotten once the
	// window and the cool-off are over: the next failure sweeps them.
	for i := range 50 {
		if status, _ := try(fmt.Sprintf("%03d", i) + strings.Repeat("z", admin.MaxConsoleUserName-3)); status != http.StatusUnauthorized {
			t.Fatalf("try %d: %d, want 401", i, status)
		}
	}
	if n := guard.Len(); n != 51 {
		t.Fatalf("after 50 names the guard holds %d entries, want 51", n)
	}
	now.Add(int64(2 * time.Hour))
	if status, _ := try("root"); status != http.StatusUnauthorized {
		t.Fatalf("wrong password for root: %d, want 401", status)
	}
	if n := guard.Len(); n != 2 {
		t.Fatalf("two hours on, after one more failure the guard holds %d entries, want 2 (the address and root)", n)
	}
}

// lockedBuffer is a log the server's goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
