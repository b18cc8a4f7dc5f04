package daemon_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/daemon"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

const pw = "correct-horse-battery"

func fixture(a *admin.Service) {
	ctx := context.Background()
	if _, err := a.AddDomain(ctx, "example.test"); err != nil {
		panic(err)
	}
	for _, m := range []string{"alice@example.test", "carol@example.test"} {
		if _, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: m, Password: pw}); err != nil {
			panic(err)
		}
	}
}

// TestShutdown_FinishesTransactionsInFlight stops the daemon while one
// client is idle and another is in the middle of DATA: the idle one gets
// 421, the other gets its 250, and the accepted message is in the store.
func TestShutdown_FinishesTransactionsInFlight(t *testing.T) {
	s := testkit.Start(t, fixture)
	idle := testkit.Ready(t, s, "alice@example.test", pw)
	busy := testkit.Ready(t, s, "alice@example.test", pw)
	busy.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	busy.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	busy.MustCmd("DATA", 354, "")
	busy.Write([]byte("Subject: in flight\r\n\r\nfirst half\r\n"))

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Daemon.Shutdown(ctx)
	}()

	idle.Expect(idle.Read(), 421, "4.3.2")
	if _, err := net.DialTimeout("tcp", s.Addr("submission"), time.Second); err == nil {
		// The listener closes before idle connections are told to go;
		// after the 421 a new connection must be refused.
		t.Error("a new connection was accepted during shutdown")
	}
	busy.Write([]byte("second half\r\n.\r\n"))
	r := busy.Expect(busy.Read(), 250, "2.0.0")
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	id := strings.TrimPrefix(r.Text, "OK queued as ")
	rows, err := s.Store.QueueRows(context.Background(), id)
	if err != nil || len(rows) != 1 || rows[0].State != store.StateDelivered {
		t.Fatalf("queue rows of %s: %+v, %v", id, rows, err)
	}
}

// TestShutdown_GraceBoundsSlowClients: a client that stalls in DATA past
// the grace period is cut off without a 250, and nothing of it is stored.
func TestShutdown_GraceBoundsSlowClients(t *testing.T) {
	s := testkit.Start(t, fixture)
	slow := testkit.Ready(t, s, "alice@example.test", pw)
	slow.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	slow.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	slow.MustCmd("DATA", 354, "")
	slow.Write([]byte("Subject: never finished\r\n\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Daemon.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if r, err := slow.TryRead(); err == nil {
		t.Fatalf("cut-off client got a reply: %q", r)
	}
	rows, err := s.Store.QueueRows(context.Background(), "")
	if err != nil || len(rows) != 0 {
		t.Fatalf("queue rows after cut-off: %+v, %v", rows, err)
	}
}

// TestStart_PortInUse: a listener that cannot bind fails Start with the
// key and address named, and releases what was already bound.
func TestStart_PortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := config.Default()
	cfg.SetDir(t.TempDir())
	cfg.Submission.Listen = "127.0.0.1:0"
	cfg.Submission.ListenTLS = busy.Addr().String()
	cfg.HTTP.Listen = ""
	_, err = daemon.Start(context.Background(), daemon.Options{Config: cfg})
	if err == nil || !strings.Contains(err.Error(), "submission_tls listen "+busy.Addr().String()) {
		t.Fatalf("Start = %v, want the busy listener named", err)
	}
	// The store was closed: a second Start on the same data works.
	cfg.Submission.ListenTLS = ""
	d, err := daemon.Start(context.Background(), daemon.Options{Config: cfg})
	if err != nil {
		t.Fatalf("restart after a failed start: %v", err)
	}
	d.Shutdown(context.Background())
}
