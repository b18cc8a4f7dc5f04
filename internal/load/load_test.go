package load_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/load"
	"mailroom/internal/testkit"
)

const password = "correct-horse-battery"

// server starts a daemon with alice (who sends) and bob (who receives),
// and the throttles lifted unless an option sets them.
func server(t *testing.T, opts ...testkit.Option) *testkit.Server {
	t.Helper()
	lift := func(c *config.Config) {
		c.Limits.Concurrent = 64
		c.Limits.MessagesPerMinute = 100000
		c.Limits.RecipientsPerDay = 1000000
	}
	return testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		for _, m := range []string{"alice@example.test", "bob@example.test"} {
			_, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: m, Password: password})
			testkit.MustAdd(t, err)
		}
	}, append([]testkit.Option{lift}, opts...)...)
}

// options are a run's options against s's STARTTLS port, trusting its
// certificate.
func options(s *testkit.Server) load.Options {
	return load.Options{
		Addr:      s.Addr("submission"),
		TLSConfig: s.TLSConfig(),
		Username:  "alice@example.test", Password: password,
		To:      []string{"bob@example.test"},
		Size:    2048,
		Timeout: 10 * time.Second,
	}
}

func run(t *testing.T, o load.Options) *load.Report {
	t.Helper()
	r, err := load.New(o)
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	rep := r.Run(context.Background())
	var b strings.Builder
	rep.WriteText(&b)
	t.Logf("report:\n%s", b.String())
	if p := r.Progress(); p.Done != int64(rep.OK+rep.Failed) {
		t.Errorf("progress says %d done, report %d ok + %d failed", p.Done, rep.OK, rep.Failed)
	}
	return rep
}

// accepted counts the messages the server accepted durably.
func accepted(t *testing.T, s *testkit.Server) int {
	t.Helper()
	rows, err := s.Store.QueueRows(context.Background(), "")
	if err != nil {
		t.Fatalf("queue rows: %v", err)
	}
	ids := map[string]bool{}
	for _, r := range rows {
		ids[r.MessageID] = true
	}
	return len(ids)
}

// failures returns the report's failure groups as "KEY: count".
func failures(rep *load.Report) map[string]int {
	m := map[string]int{}
	for _, f := range rep.Failures {
		m[f.FailureKey.String()] = f.Count
	}
	return m
}

func TestRun_StartTLSReusedSessions(t *testing.T) {
	s := server(t)
	o := options(s)
	o.Conns, o.Messages = 4, 40
	o.To = []string{"bob@example.test", "alice@example.test"}
	rep := run(t, o)
	if rep.OK != 40 || rep.Failed != 0 || rep.Interrupted != 0 {
		t.Fatalf("ok %d failed %d interrupted %d, want 40 ok: %v", rep.OK, rep.Failed, rep.Interrupted, failures(rep))
	}
	if got := accepted(t, s); got != 40 {
		t.Errorf("server accepted %d messages, report says 40", got)
	}
	if rep.Latency.N != 40 || rep.Latency.P50 <= 0 || rep.Latency.Max < rep.Latency.P99 || rep.Latency.P99 < rep.Latency.P50 {
		t.Errorf("latency %+v", rep.Latency)
	}
	// One session per worker that got a message, reused to the end.
	if rep.Setup.N < 1 || rep.Setup.N > 4 {
		t.Errorf("%d sessions for 4 connections reused forever", rep.Setup.N)
	}
	if rep.Rate() <= 0 {
		t.Errorf("rate %v", rep.Rate())
	}
}

// TestRun_PerConnImplicitLogin: --per-conn 1 pays connect, TLS and AUTH for
// every message, here over implicit TLS with AUTH LOGIN.
func TestRun_PerConnImplicitLogin(t *testing.T) {
	s := server(t)
	o := options(s)
	o.Addr, o.TLS, o.Auth = s.Addr("submission_tls"), load.Implicit, load.AuthLogin
	o.Conns, o.Messages, o.PerConn = 3, 12, 1
	rep := run(t, o)
	if rep.OK != 12 || rep.Failed != 0 {
		t.Fatalf("ok %d failed %d, want 12 ok: %v", rep.OK, rep.Failed, failures(rep))
	}
	if rep.Setup.N != 12 {
		t.Errorf("%d sessions for 12 messages at one per connection", rep.Setup.N)
	}
	if got := accepted(t, s); got != 12 {
		t.Errorf("server accepted %d messages, report says 12", got)
	}
	if !strings.Contains(s.Log(), `tls="TLS 1.`) {
		t.Errorf("the server log shows no TLS session")
	}
}

// TestRun_ConcurrencyRefusals: with one transaction allowed per mailbox,
// refusals are reported as MAIL 432 4.3.2, and every message is either
// accepted (and on the server) or counted as failed.
func TestRun_ConcurrencyRefusals(t *testing.T) {
	s := server(t, func(c *config.Config) { c.Limits.Concurrent = 1 })
	// A transaction held open takes the only slot: every message is refused.
	holder := testkit.Ready(t, s, "alice@example.test", password)
	holder.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	o := options(s)
	o.Conns, o.Messages = 4, 20
	rep := run(t, o)
	if rep.OK != 0 || rep.Failed != 20 {
		t.Fatalf("ok %d failed %d, want 20 failed", rep.OK, rep.Failed)
	}
	if got := failures(rep); len(got) != 1 || got["MAIL 432 4.3.2"] != 20 {
		t.Fatalf("failures %v, want MAIL 432 4.3.2: 20", got)
	}
	if ex := rep.Failures[0].Example; !strings.Contains(ex, "thread limit") {
		t.Errorf("example reply %q does not carry the server's text", ex)
	}

	// The slot free again, four connections compete for it.
	holder.MustCmd("RSET", 250, "")
	o.Messages = 40
	rep = run(t, o)
	if rep.OK+rep.Failed != 40 || rep.OK < 1 {
		t.Fatalf("ok %d + failed %d, want 40 with at least one accepted", rep.OK, rep.Failed)
	}
	for k := range failures(rep) {
		if k != "MAIL 432 4.3.2" {
			t.Errorf("unexpected failure %s", k)
		}
	}
	if got := accepted(t, s); got != rep.OK {
		t.Errorf("server accepted %d messages, report says %d", got, rep.OK)
	}
}

// TestRun_SetupFailures: failures before MAIL are named by their phase.
func TestRun_SetupFailures(t *testing.T) {
	s := server(t)
	o := options(s)
	o.Password = "wrong-password"
	o.Messages = 3
	rep := run(t, o)
	if got := failures(rep); rep.OK != 0 || got["AUTH 535 5.7.3"] != 3 {
		t.Errorf("wrong password: ok %d, failures %v, want AUTH 535 5.7.3: 3", rep.OK, got)
	}

	// Cleartext: the server refuses AUTH before TLS.
	o = options(s)
	o.TLS, o.Messages = load.NoTLS, 2
	if got := failures(run(t, o)); got["AUTH 538 5.7.11"] != 2 {
		t.Errorf("AUTH without TLS: %v, want AUTH 538 5.7.11: 2", got)
	}

	// A certificate the client does not trust.
	o = options(s)
	o.TLSConfig, o.Messages = nil, 2
	if got := failures(run(t, o)); got["TLS certificate not trusted"] != 2 {
		t.Errorf("untrusted certificate: %v", got)
	}

	// Nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o = options(s)
	o.Addr, o.Messages = l.Addr().String(), 2
	l.Close()
	if got := failures(run(t, o)); got["CONNECT connection refused"] != 2 {
		t.Errorf("closed port: %v", got)
	}
}

// TestRun_Cancel: cancelling ends the run at once; what was in flight is
// interrupted, not failed.
func TestRun_Cancel(t *testing.T) {
	s := server(t)
	o := options(s)
	o.Conns, o.Messages = 2, 1000000
	r, err := load.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *load.Report)
	go func() { done <- r.Run(ctx) }()
	for r.Progress().OK < 5 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	rep := <-done
	if rep.Failed != 0 {
		t.Errorf("cancelling failed %d messages: %v", rep.Failed, failures(rep))
	}
	// An interrupted message may have been accepted just before the cut.
	if got := accepted(t, s); got < rep.OK || got > rep.OK+rep.Interrupted {
		t.Errorf("server accepted %d, report %d ok and %d interrupted", got, rep.OK, rep.Interrupted)
	}
}

func TestNew_Validates(t *testing.T) {
	for name, o := range map[string]load.Options{
		"no recipients":        {Username: "a@example.test", Messages: 1},
		"no sender":            {To: []string{"b@example.test"}, Messages: 1},
		"no end":               {Username: "a@example.test", To: []string{"b@example.test"}},
		"bad tls":              {Username: "a@example.test", To: []string{"b@example.test"}, Messages: 1, TLS: "ssl"},
		"bad auth":             {Username: "a@example.test", To: []string{"b@example.test"}, Messages: 1, Auth: "cram-md5"},
		"bracketed":            {Username: "a@example.test", To: []string{"<b@example.test>"}, Messages: 1},
		"address without port": {Addr: "localhost", Username: "a@example.test", To: []string{"b@example.test"}, Messages: 1},
	} {
		if _, err := load.New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
