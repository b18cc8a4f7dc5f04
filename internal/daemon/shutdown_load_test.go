package daemon_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// TestShutdown_UnderLoad stops and restarts the daemon while six clients
// submit as fast as they can. Every transaction whose final dot was sent
// gets its 250 (none is cut: busy clients get 421 4.3.2 at their next MAIL,
// idle ones at once), every 250 is in the store after the restart with its
// queue row, and nothing the clients were not told about is stored.
func TestShutdown_UnderLoad(t *testing.T) {
	s := testkit.Start(t, fixture, func(c *config.Config) {
		c.Limits.Concurrent = 16
		c.Limits.MessagesPerMinute = 1 << 20
		c.Limits.RecipientsPerDay = 1 << 20
		c.Submission.ShutdownGrace = config.Duration(20 * time.Second)
	})
	tlsConfig := s.TLSConfig()
	addr := newAddrBoard(s.Addr("submission"))

	type attempt struct {
		msgID string
		res   testkit.Result
	}
	var (
		mu       sync.Mutex
		attempts []attempt
		acked    atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for {
				a, ok := addr.get(stop)
				if !ok {
					return
				}
				c, err := testkit.DialSubmission(a, tlsConfig, "alice@example.test", pw)
				if err != nil {
					addr.waitChange(a, stop) // the listener is closed until the restart
					continue
				}
				for {
					select {
					case <-stop:
						c.Close()
						return
					default:
					}
					n++
					id := fmt.Sprintf("w%d-%d@load.test", w, n)
					res := c.Send("alice@example.test", []string{"carol@example.test"},
						"Message-ID: <"+id+">\nSubject: load\n\nmessage "+id+"\n")
					mu.Lock()
					attempts = append(attempts, attempt{id, res})
					mu.Unlock()
					if res.Accepted() {
						acked.Add(1)
					}
					if res.Err != nil || res.Reply.Code == 421 {
						c.Close()
						break
					}
				}
			}
		}()
	}
	waitAcked := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for acked.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d messages accepted within 30s, want %d", acked.Load(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	waitAcked(30)
	atStop := acked.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	if err := s.Daemon.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown under load: %v", err)
	}
	cancel()
	before := acked.Load()
	// Each client finishes the transaction it is in (and one more may have
	// been counted late); then its next MAIL gets 421. Busy clients must
	// not keep the server from stopping until the grace period ends.
	if during := before - atStop; during > 2*6 {
		t.Errorf("%d messages were accepted while the server was shutting down; busy clients were not sent away", during)
	}
	s.Restart()
	addr.set(s.Addr("submission"))
	waitAcked(before + 30)
	close(stop)
	wg.Wait()

	ctx = context.Background()
	shutdownReplies := 0
	stored := 0
	for _, a := range attempts {
		switch {
		case a.res.Accepted():
			stored++
			m, err := s.Store.Message(ctx, a.res.ID)
			if err != nil || m.MessageID != a.msgID {
				t.Errorf("%s got 250 as %s, but the store has %+v, %v", a.msgID, a.res.ID, m, err)
				continue
			}
			rows, err := s.Store.QueueRows(ctx, a.res.ID)
			if err != nil || len(rows) != 1 || rows[0].State != store.StateDelivered {
				t.Errorf("%s: queue rows %+v, %v", a.msgID, rows, err)
			}
		case a.res.Stage >= testkit.StageDot:
			t.Errorf("%s: the final dot was sent but the reply was %q, %v; want 250", a.msgID, a.res.Reply, a.res.Err)
		case a.res.Reply.Code == 421 && a.res.Reply.Enhanced == "4.3.2":
			shutdownReplies++
		}
	}
	rows, err := s.Store.QueueRows(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != stored {
		t.Errorf("the store holds %d messages, the clients were told of %d", len(rows), stored)
	}
	t.Logf("%d transactions, %d accepted and stored, %d refused with 421 4.3.2 at shutdown", len(attempts), stored, shutdownReplies)
}

// addrBoard publishes the server's current address to client goroutines.
type addrBoard struct {
	mu      sync.Mutex
	addr    string
	changed chan struct{}
}

func newAddrBoard(a string) *addrBoard { return &addrBoard{addr: a, changed: make(chan struct{})} }

func (b *addrBoard) set(a string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.addr = a
	close(b.changed)
	b.changed = make(chan struct{})
}

func (b *addrBoard) get(stop <-chan struct{}) (string, bool) {
	select {
	case <-stop:
		return "", false
	default:
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addr, true
}

// waitChange returns once the address is no longer a, or stop closes.
func (b *addrBoard) waitChange(a string, stop <-chan struct{}) {
	b.mu.Lock()
	if b.addr != a {
		b.mu.Unlock()
		return
	}
	ch := b.changed
	b.mu.Unlock()
	select {
	case <-ch:
	case <-stop:
	}
}
