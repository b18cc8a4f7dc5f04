package submission_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/testkit"
)

func limitsConfig(f func(l *config.Limits)) testkit.Option {
	return func(c *config.Config) { f(&c.Limits) }
}

// TestLimits_TwentyClientsThreeSlots: 20 connections of one mailbox send
// MAIL FROM at once; exactly 3 get 250, the other 17 get 432 4.3.2. A slot
// comes back on RSET and on a dropped connection, never leaks.
func TestLimits_TwentyClientsThreeSlots(t *testing.T) {
	s := testkit.Start(t, fixture)
	conns := make([]*testkit.Conn, 20)
	for i := range conns {
		conns[i] = testkit.Ready(t, s, "alice@example.test", pw)
	}
	replies := atOnce(conns, func(_ int, c *testkit.Conn) testkit.Reply { return c.Cmd("MAIL FROM:<alice@example.test>") })
	var holders []*testkit.Conn
	refused := 0
	for i, r := range replies {
		switch {
		case r.Code == 250:
			holders = append(holders, conns[i])
		case r.Code == 432 && r.Enhanced == "4.3.2" && strings.HasPrefix(r.Text, "STOREDRV.ClientSubmit; sender thread limit exceeded"):
			refused++
		default:
			t.Fatalf("unexpected reply %q", r)
		}
	}
	if len(holders) != 3 || refused != 17 {
		t.Fatalf("%d got a slot and %d were refused; want 3 and 17", len(holders), refused)
	}
	// RSET frees one, a dropped connection another, a finished message the third.
	holders[0].MustCmd("RSET", 250, "")
	holders[1].Close()
	holders[2].MustCmd("RCPT TO:<carol@example.test>", 250, "")
	holders[2].Expect(holders[2].SendData("Subject: x\n\nx\n"), 250, "2.0.0")
	var got []*testkit.Conn
	waitFor(t, func() bool {
		for _, c := range conns {
			if len(got) == 3 {
				break
			}
			if contains(holders, c) || contains(got, c) {
				continue
			}
			if c.Cmd("MAIL FROM:<alice@example.test>").Code == 250 {
				got = append(got, c)
			}
		}
		return len(got) == 3
	})
	for _, c := range conns {
		if c == holders[1] || contains(got, c) {
			continue // closed, or holding a slot already
		}
		if c.Cmd("MAIL FROM:<alice@example.test>").Code == 250 && !contains(holders, c) {
			t.Fatal("a fourth slot was handed out")
		}
	}
	// Another mailbox is not affected by alice's slots.
	bob := testkit.Ready(t, s, "carol@example.test", pw)
	bob.MustCmd("MAIL FROM:<carol@example.test>", 250, "")
}

func contains(list []*testkit.Conn, c *testkit.Conn) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

func TestLimits_MessageRate(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) { l.MessagesPerMinute = 2 }))
	c := testkit.Ready(t, s, "alice@example.test", pw)
	for i := 0; i < 2; i++ {
		c.Expect(submit(t, c, "alice@example.test", "carol@example.test", "Subject: x\n\nx\n"), 250, "2.0.0")
	}
	r := c.MustCmd("MAIL FROM:<alice@example.test>", 450, "4.7.0")
	if !strings.Contains(r.Text, "2 messages per minute") || !strings.Contains(r.Text, "retry after") {
		t.Errorf("450 text %q does not say when to retry", r.Text)
	}
}

func TestLimits_RecipientsPerMessage(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) { l.RecipientsPerMessage = 2 }))
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("RCPT TO:<a@remote.example>", 250, "")
	r := c.MustCmd("RCPT TO:<b@remote.example>", 452, "4.5.3")
	if !strings.HasPrefix(r.Text, "Too many recipients") {
		t.Errorf("text %q", r.Text)
	}
	c.MustCmd("RCPT TO:<c@remote.example>", 452, "4.5.3")
	r = c.Expect(c.SendData("Subject: x\n\nx\n"), 250, "2.0.0")
	rows, _ := s.Store.QueueRows(context.Background(), strings.TrimPrefix(r.Text, "OK queued as "))
	if len(rows) != 2 {
		t.Fatalf("%d queue rows, want the 2 accepted recipients", len(rows))
	}
}

func TestLimits_DailyBudgetSurvivesRestart(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) { l.RecipientsPerDay = 3 }))
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.MustCmd("RCPT TO:<a@remote.example>", 250, "")
	c.Expect(c.SendData("Subject: x\n\nx\n"), 250, "2.0.0")
	c.Close()

	s.Restart() // a restart must not hand out a fresh day
	c = testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<b@remote.example>", 250, "")
	r := c.MustCmd("RCPT TO:<d@remote.example>", 452, "4.5.3")
	if !strings.Contains(r.Text, "3 recipients in 24 hours") || !strings.Contains(r.Text, "budget returns from") {
		t.Errorf("452 text %q does not say when the budget returns", r.Text)
	}
	// Aborted transactions give their reservations back.
	c.MustCmd("RSET", 250, "")
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<b@remote.example>", 250, "")
}

func TestLimits_DailyBudgetReject(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) {
		l.RecipientsPerDay = 1
		l.DailyRecipientsExceeded = "reject"
	}))
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	r := c.MustCmd("RCPT TO:<a@remote.example>", 554, "5.2.0")
	if !strings.HasPrefix(r.Text, "STOREDRV.Submission.Exception:SubmissionQuotaExceededException") {
		t.Errorf("text %q", r.Text)
	}
}

func TestLimits_PerMailboxOverrides(t *testing.T) {
	one := 1
	s := testkit.Start(t, func(a *admin.Service) {
		fixture(a)
		a.SetMailbox(context.Background(), "alice@example.test", admin.MailboxChange{Limits: admin.LimitChange{Concurrent: &one}})
	})
	a1 := testkit.Ready(t, s, "alice@example.test", pw)
	a2 := testkit.Ready(t, s, "alice@example.test", pw)
	a1.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	a2.MustCmd("MAIL FROM:<alice@example.test>", 432, "4.3.2")
	// carol keeps the server default of 3.
	c1 := testkit.Ready(t, s, "carol@example.test", pw)
	c2 := testkit.Ready(t, s, "carol@example.test", pw)
	c1.MustCmd("MAIL FROM:<carol@example.test>", 250, "")
	c2.MustCmd("MAIL FROM:<carol@example.test>", 250, "")
}

// TestLogin_BlockAfterFailures: the third failure from an address gets
// 421 4.7.0 and the connection closes; the address stays blocked, for every
// mailbox, while other addresses are served.
func TestLogin_BlockAfterFailures(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) { l.LoginFailuresPerAddress = 3 }))
	dial := dialFrom(t, s)
	c := dial("127.0.0.1")
	c.Expect(c.AuthPlain("alice@example.test", "wrong-1"), 535, "5.7.3")
	c.Expect(c.AuthPlain("alice@example.test", "wrong-2"), 535, "5.7.3")
	r := c.Expect(c.AuthPlain("alice@example.test", "wrong-3"), 421, "4.7.0")
	if !strings.Contains(r.Text, "try again after") {
		t.Errorf("421 text %q", r.Text)
	}
	if _, err := c.TryRead(); err == nil {
		t.Fatal("connection still open after 421")
	}
	c = dial("127.0.0.1")
	c.Expect(c.AuthPlain("carol@example.test", pw), 421, "4.7.0") // right password, blocked address
	c = dial("127.0.0.2")
	c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0")
}

// dialFrom returns a dialer of the STARTTLS port from a chosen 127/8
// address, ready for AUTH.
func dialFrom(t *testing.T, s *testkit.Server) func(string) *testkit.Conn {
	return func(local string) *testkit.Conn {
		c := testkit.DialFrom(t, s.Addr("submission"), local)
		c.MustCmd("EHLO client.example.test", 250, "")
		c.StartTLS(s.TLSConfig())
		return c
	}
}

// TestLogin_MailboxAttackDoesNotLockOutOwner: failures for alice@ from one
// address block alice@ for unknown addresses, but Alice's own address,
// where she logged in before, still gets in.
func TestLogin_MailboxAttackDoesNotLockOutOwner(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) {
		l.LoginFailuresPerAddress = 100
		l.LoginFailuresPerMailbox = 3
	}))
	dial := dialFrom(t, s)
	owner := dial("127.0.0.1")
	owner.Expect(owner.AuthPlain("alice@example.test", pw), 235, "2.0.0")
	attacker := dial("127.0.0.2")
	attacker.Expect(attacker.AuthPlain("alice@example.test", "guess-1"), 535, "5.7.3")
	attacker.Expect(attacker.AuthPlain("alice@example.test", "guess-2"), 535, "5.7.3")
	attacker.Expect(attacker.AuthPlain("alice@example.test", "guess-3"), 421, "4.7.0")
	attacker = dial("127.0.0.2")
	attacker.Expect(attacker.AuthPlain("alice@example.test", pw), 421, "4.7.0")
	attacker.Close()
	owner = dial("127.0.0.1")
	owner.Expect(owner.AuthPlain("alice@example.test", pw), 235, "2.0.0")
	other := dial("127.0.0.2")
	other.Expect(other.AuthPlain("carol@example.test", pw), 235, "2.0.0") // the address itself is not blocked
}

func TestNetworks_RestrictLogin(t *testing.T) {
	s := testkit.Start(t, func(a *admin.Service) {
		fixture(a)
		ctx := context.Background()
		elsewhere := []string{"10.0.0.0/8"}
		here := []string{"127.0.0.0/8"}
		a.SetMailbox(ctx, "alice@example.test", admin.MailboxChange{Networks: &elsewhere})
		a.SetMailbox(ctx, "carol@example.test", admin.MailboxChange{Networks: &here})
	})
	c := testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	r := c.Expect(c.AuthPlain("alice@example.test", pw), 535, "5.7.139")
	for _, want := range []string{"network not allowed", "10.0.0.0/8", "127.0.0.1", "mailroom mailbox set alice@example.test --networks"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("535 5.7.139 text %q lacks %q", r.Text, want)
		}
	}
	c.Expect(c.AuthPlain("alice@example.test", "wrong-password"), 535, "5.7.3") // no hint without the password
	c.Expect(c.AuthPlain("carol@example.test", pw), 235, "2.0.0")

	// A domain restriction applies to every mailbox of the domain.
	nets := []string{"192.0.2.0/24"}
	if _, err := s.Admin.SetDomain(context.Background(), "example.test", admin.DomainChange{Networks: &nets}); err != nil {
		t.Fatal(err)
	}
	s.SyncDirectory()
	c2 := testkit.Dial(t, s.Addr("submission"))
	c2.MustCmd("EHLO client.example.test", 250, "")
	c2.StartTLS(s.TLSConfig())
	r = c2.Expect(c2.AuthPlain("carol@example.test", pw), 535, "5.7.139")
	if !strings.Contains(r.Text, "domain example.test") {
		t.Errorf("text %q does not name the domain restriction", r.Text)
	}
}

func TestAppPasswords(t *testing.T) {
	s := testkit.Start(t, fixture)
	ctx := context.Background()
	_, printer, err := s.Admin.AddAppPassword(ctx, admin.NewAppPassword{Mailbox: "alice@example.test", Label: "printer-3f"})
	if err != nil {
		t.Fatal(err)
	}
	_, scanner, err := s.Admin.AddAppPassword(ctx, admin.NewAppPassword{Mailbox: "alice@example.test", Label: "scanner", Networks: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	s.SyncDirectory()
	dev := testkit.Ready(t, s, "alice@example.test", printer)
	r := tryAuth(t, s, "alice@example.test", scanner)
	if r.Code != 535 || r.Enhanced != "5.7.139" || !strings.Contains(r.Text, "app password scanner") {
		t.Fatalf("scanner from 127.0.0.1: %q", r)
	}
	if r := tryAuth(t, s, "carol@example.test", printer); r.Code != 535 || r.Enhanced != "5.7.3" {
		t.Fatalf("alice's app password for carol: %q", r)
	}
	// The app password counts toward its mailbox's limits.
	p1 := testkit.Ready(t, s, "alice@example.test", pw)
	p2 := testkit.Ready(t, s, "alice@example.test", pw)
	p1.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	p2.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	dev.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	p3 := testkit.Ready(t, s, "alice@example.test", printer)
	p3.MustCmd("MAIL FROM:<alice@example.test>", 432, "4.3.2")
	dev.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	dev.Expect(dev.SendData("Subject: scan\n\nx\n"), 250, "2.0.0")

	waitFor(t, func() bool {
		aps, _ := s.Admin.AppPasswords(ctx, "alice@example.test")
		return aps[0].Label == "printer-3f" && !aps[0].LastUsedAt.IsZero() && aps[0].LastUsedFrom == "127.0.0.1"
	})
	if err := s.Admin.RevokeAppPassword(ctx, "alice@example.test", "printer-3f"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, func() bool { return tryAuth(t, s, "alice@example.test", printer).Code == 535 })
	t.Logf("revocation effective after %v", time.Since(start))
}

func tryAuth(t *testing.T, s *testkit.Server, user, pass string) testkit.Reply {
	t.Helper()
	c := testkit.Dial(t, s.Addr("submission"))
	defer c.Close()
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	return c.AuthPlain(user, pass)
}
