package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/store/sqlite"
	"mailroom/internal/trace"
)

// TestConsole_TraceTLSFailed: the trace page lists a failed handshake
// under status tls_failed, with what the client offered and the fix, and
// a session that sent no command under no_command.
func TestConsole_TraceTLSFailed(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "console.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := admin.New(st)
	a.Params.Time, a.Params.Memory = 1, 1024
	if _, err := a.AddConsoleUser(ctx, "root", "correct-horse-battery"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.AppendTrace(ctx, []store.TraceEvent{
		{At: now, Session: "s1", Kind: trace.KindSession, Remote: "192.0.2.7:4000", Detail: "EHLO printer"},
		{At: now, Session: "s1", Kind: trace.KindTLS, Status: trace.StatusTLSFailed, Remote: "192.0.2.7:4000", Reason: "tls_version", Attempt: true,
			Detail: "client offered TLS 1.0; cipher suites TLS_RSA_WITH_AES_128_CBC_SHA; SNI (none); TLS 1.2 is the minimum. Allow TLS 1.0 and 1.1 for this device only with: mailroom connector add NAME --mailbox ADDRESS --networks 192.0.2.7/32 --legacy-tls"},
		{At: now, Session: "s2", Kind: trace.KindEnded, Status: trace.StatusNoCommand, Remote: "192.0.2.8:4000", Reason: "no_command", Attempt: true, Detail: "the client ended the session after EHLO without AUTH or MAIL."},
	}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Options{Store: st, Admin: a, Log: slog.New(slog.DiscardHandler)}))
	t.Cleanup(srv.Close)
	c := newConsoleClient(t, srv)
	c.login("root", "correct-horse-battery")

	status, _, body := c.do("GET", "/trace?status=tls_failed&since=1h", nil)
	for _, want := range []string{"<option selected>tls_failed</option>", `<span class="badge st-tls_failed">tls_failed</span>`, "tls_version", "192.0.2.7:4000",
		"client offered TLS 1.0", "--networks 192.0.2.7/32 --legacy-tls"} {
		if !strings.Contains(body, want) {
			t.Errorf("trace page: no %q", want)
		}
	}
	if status != http.StatusOK || strings.Contains(body, "192.0.2.8") || t.Failed() {
		t.Fatalf("GET /trace?status=tls_failed: %d\n%s", status, body)
	}
	if status, _, body := c.do("GET", "/trace?status=no_command&since=1h", nil); status != http.StatusOK || !strings.Contains(body, "without AUTH or MAIL") || strings.Contains(body, "192.0.2.7") {
		t.Fatalf("GET /trace?status=no_command: %d\n%s", status, body)
	}
}
