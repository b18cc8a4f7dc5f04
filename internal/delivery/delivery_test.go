package delivery_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/blob"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

const pw = "correct-horse-battery"

// fixture: example.test with alice and carol.
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

// withDelivery changes [delivery] after WithRemote.
func withDelivery(f func(*config.Delivery)) testkit.Option {
	return func(c *config.Config) { f(&c.Delivery) }
}

// reject answers RCPT for the listed recipients with code and enhanced.
func reject(code int, enh smtp.EnhancedCode, rcpts ...string) func(string) *smtp.SMTPError {
	return func(r string) *smtp.SMTPError {
		if slices.Contains(rcpts, r) {
			return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: "scripted refusal"}
		}
		return nil
	}
}

// waitState waits until every recipient of message id is in state.
func waitState(t *testing.T, s *testkit.Server, id string, want map[string]string) {
	t.Helper()
	testkit.Eventually(t, fmt.Sprintf("queue rows of %s are %v", id, want), func() bool {
		got := s.QueueStates(id)
		for k, v := range want {
			if got[k] != v {
				return false
			}
		}
		return true
	})
}

// row returns the queue row of message id for rcpt.
func row(t *testing.T, s *testkit.Server, id, rcpt string) store.QueueRow {
	t.Helper()
	rows, err := s.Store.QueueRows(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Recipient == rcpt {
			return r
		}
	}
	t.Fatalf("no row for %s in %+v", rcpt, rows)
	return store.QueueRow{}
}

func TestDeliver_RemoteByMXOnlyToEnvelopeRecipients(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{})
	s := testkit.Start(t, fixture, testkit.WithRemote(r))

	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@remote.test", "carol@example.test"},
		"From: Alice <alice@example.test>\nTo: bob@remote.test, header-only@remote.test\nCc: carol@example.test\nBcc: carol@example.test\nSubject: hi\n\nhello bob\n")
	waitState(t, s, id, map[string]string{"bob@remote.test": store.StateDelivered, "carol@example.test": store.StateDelivered})

	got := mx.Accepted()
	if len(got) != 1 {
		t.Fatalf("remote MX got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.From != "alice@example.test" || !slices.Equal(m.Rcpts, []string{"bob@remote.test"}) {
		t.Errorf("envelope MAIL FROM %q RCPT %v; want alice, and bob only (never header-only addresses)", m.From, m.Rcpts)
	}
	if strings.Contains(string(m.Data), "Bcc:") {
		t.Errorf("delivered copy keeps Bcc:\n%s", m.Data)
	}
	if !strings.Contains(string(m.Data), "hello bob") {
		t.Errorf("delivered copy:\n%s", m.Data)
	}
	if rw := row(t, s, id, "bob@remote.test"); rw.Attempts != 1 || !strings.HasPrefix(rw.LastReply, "250") {
		t.Errorf("bob's row %+v, want one attempt and the 250", rw)
	}
}

func TestDeliver_NoBareLineEnds(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{})
	s := testkit.Start(t, fixture, testkit.WithRemote(r))
	// Submission refuses bare line ends (SMTP smuggling), so put such a
	// body in the queue directly, as an older version might have stored
	// it: delivery must still never relay a bare CR or LF.
	blobs, err := blob.Open(filepath.Join(s.DataDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer blobs.Close()
	w, err := blobs.Create()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: alice@example.test\r\nSubject: raw\r\n\r\nbare LF\nbare CR\rend\r\n"))
	id := "1a2b3c4d5e6f00000000raw"
	if err := w.Commit(id); err != nil {
		t.Fatal(err)
	}
	mb, _ := s.Store.Mailbox(context.Background(), "alice@example.test")
	err = s.Store.Accept(context.Background(), store.Acceptance{
		Message:    store.Message{ID: id, MessageID: id + "@example.test", MailboxID: mb.ID, EnvelopeFrom: "alice@example.test", Size: 60, Blob: id, DeliveryBlob: id, CreatedAt: time.Now()},
		Recipients: []string{"bob@remote.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the MX receives the message", func() bool { return len(mx.Accepted()) == 1 })
	data := string(mx.Accepted()[0].Data)
	for i := 0; i < len(data); i++ {
		if data[i] == '\n' && (i == 0 || data[i-1] != '\r') || data[i] == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			t.Fatalf("bare line end at %d in relayed message %q", i, data)
		}
	}
	if !strings.Contains(data, "bare LF\r\nbare CR\r\nend\r\n") {
		t.Errorf("relayed body %q", data)
	}
}

// TestDeliver_ExchangeResubmissions is the case users report against
// Exchange: one Message-ID submitted three times, each time with one other
// envelope recipient and another body. Every recipient gets exactly the
// copy meant for it, and nobody gets anything else.
func TestDeliver_ExchangeResubmissions(t *testing.T) {
	r := testkit.NewRemote(t)
	mxA := r.MX(t, "a.test", testkit.MXOptions{})
	mxB := r.MX(t, "b.test", testkit.MXOptions{})
	s := testkit.Start(t, fixture, testkit.WithRemote(r))
	rcpts := []string{"one@a.test", "two@a.test", "three@b.test"}
	for i, rc := range rcpts {
		s.Send("alice@example.test", pw, "alice@example.test", []string{rc},
			"From: alice@example.test\nTo: one@a.test, two@a.test, three@b.test\nBcc: secret@b.test\n"+
				"Message-ID: <same-id@example.test>\nSubject: personalised\n\nbody for "+rc+fmt.Sprintf(" #%d\n", i))
	}
	testkit.Eventually(t, "three messages arrive", func() bool { return len(mxA.Accepted())+len(mxB.Accepted()) >= 3 })
	all := append(mxA.Accepted(), mxB.Accepted()...)
	if len(all) != 3 {
		t.Fatalf("%d messages delivered, want 3", len(all))
	}
	seen := map[string]int{}
	for _, m := range all {
		if len(m.Rcpts) != 1 {
			t.Fatalf("one transaction carried RCPT %v; each submission has one recipient", m.Rcpts)
		}
		rc := m.Rcpts[0]
		seen[rc]++
		if !strings.Contains(string(m.Data), "body for "+rc+" ") {
			t.Errorf("%s received another recipient's copy:\n%s", rc, m.Data)
		}
		if strings.Contains(string(m.Data), "Bcc:") || strings.Contains(string(m.Data), "secret@") {
			t.Errorf("%s's copy reveals the Bcc:\n%s", rc, m.Data)
		}
		if !strings.Contains(string(m.Data), "same-id@example.test") {
			t.Errorf("%s's copy lost the Message-ID", rc)
		}
	}
	for _, rc := range rcpts {
		if seen[rc] != 1 {
			t.Errorf("%s received %d messages, want exactly 1", rc, seen[rc])
		}
	}
	for _, m := range append(mxA.Messages(), mxB.Messages()...) {
		if slices.Contains(m.Rcpts, "secret@b.test") {
			t.Errorf("the Bcc-only header address was sent a copy")
		}
	}
}

func TestDeliver_TransientThenDelivered(t *testing.T) {
	r := testkit.NewRemote(t)
	var mu sync.Mutex
	tries := 0
	mx := r.MX(t, "remote.test", testkit.MXOptions{Rcpt: func(string) *smtp.SMTPError {
		mu.Lock()
		defer mu.Unlock()
		tries++
		if tries <= 2 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again"}
		}
		return nil
	}})
	s := testkit.Start(t, fixture, testkit.WithRemote(r))
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@remote.test"}, "Subject: retry\n\nx\n")
	waitState(t, s, id, map[string]string{"bob@remote.test": store.StateDelivered})
	if rw := row(t, s, id, "bob@remote.test"); rw.Attempts != 3 {
		t.Errorf("row %+v, want 3 attempts (451, 451, 250)", rw)
	}
	if n := len(mx.Accepted()); n != 1 {
		t.Errorf("MX accepted %d messages, want 1", n)
	}
	if dsn := s.Folder("alice@example.test", store.FolderInbox); len(dsn) != 0 {
		t.Errorf("sender got a notice for a delivered message:\n%s", dsn[0])
	}
}

func TestDeliver_PermanentFailureBouncesToSenderInbox(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{Rcpt: reject(550, smtp.EnhancedCode{5, 1, 1}, "nobody@remote.test")})
	s := testkit.Start(t, fixture, testkit.WithRemote(r))
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@remote.test", "nobody@remote.test"},
		"From: alice@example.test\nSubject: quarterly\n\nx\n")
	waitState(t, s, id, map[string]string{"bob@remote.test": store.StateDelivered, "nobody@remote.test": store.StateFailed})
	if rw := row(t, s, id, "nobody@remote.test"); rw.Attempts != 1 || !strings.HasPrefix(rw.LastReply, "550 5.1.1") {
		t.Errorf("failed row %+v: want one attempt and the 550", rw)
	}
	if m := mx.Accepted(); len(m) != 1 || !slices.Equal(m[0].Rcpts, []string{"bob@remote.test"}) {
		t.Fatalf("MX accepted %+v", m)
	}
	var inbox []string
	testkit.Eventually(t, "the DSN is in alice's Inbox", func() bool {
		inbox = s.Folder("alice@example.test", store.FolderInbox)
		return len(inbox) > 0
	})
	if len(inbox) != 1 {
		t.Fatalf("alice's Inbox has %d messages, want one DSN", len(inbox))
	}
	dsn := inbox[0]
	for _, want := range []string{
		"Subject: Undeliverable: quarterly", "multipart/report; report-type=delivery-status",
		"Final-Recipient: rfc822; nobody@remote.test", "Action: failed", "Status: 5.1.1",
		"Remote-MTA: dns; mx.remote.test", "Diagnostic-Code: smtp; 550 5.1.1 scripted refusal",
	} {
		if !strings.Contains(dsn, want) {
			t.Errorf("DSN lacks %q:\n%s", want, dsn)
		}
	}
	if strings.Contains(dsn, "Final-Recipient: rfc822; bob@") {
		t.Errorf("DSN reports the delivered recipient:\n%s", dsn)
	}
}

func TestDeliver_DNSDecidesAtOnce(t *testing.T) {
	r := testkit.NewRemote(t)
	fallback := r.Host(t, "a-only.test", testkit.MXOptions{}) // no MX: the A record is the mail host
	r.DNS.Add(t, "nullmx.test. MX 0 .")
	s := testkit.Start(t, fixture, testkit.WithRemote(r))
	id := s.Send("alice@example.test", pw, "alice@example.test",
		[]string{"x@nullmx.test", "y@nowhere.test", "z@a-only.test"}, "Subject: dns\n\nx\n")
	waitState(t, s, id, map[string]string{
		"x@nullmx.test": store.StateFailed, "y@nowhere.test": store.StateFailed, "z@a-only.test": store.StateDelivered,
	})
	if rw := row(t, s, id, "x@nullmx.test"); rw.Attempts != 1 || !strings.HasPrefix(rw.LastReply, "556 5.1.10") {
		t.Errorf("null MX row %+v, want 556 5.1.10 at the first attempt", rw)
	}
	if rw := row(t, s, id, "y@nowhere.test"); rw.Attempts != 1 || !strings.HasPrefix(rw.LastReply, "550 5.1.2") {
		t.Errorf("NXDOMAIN row %+v, want 550 5.1.2 at the first attempt", rw)
	}
	if n := len(fallback.Accepted()); n != 1 {
		t.Errorf("the A-record host got %d messages, want 1", n)
	}
}

func TestDeliver_ExpiryAndDelayNotice(t *testing.T) {
	r := testkit.NewRemote(t)
	r.MX(t, "slow.test", testkit.MXOptions{Rcpt: reject(421, smtp.EnhancedCode{4, 3, 2}, "late@slow.test", "never@slow.test")})
	s := testkit.Start(t, fixture, testkit.WithRemote(r), withDelivery(func(d *config.Delivery) {
		d.DelayNotice = config.Duration(50 * time.Millisecond)
		d.MaxAge = config.Duration(time.Hour)
	}))
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"late@slow.test"}, "Subject: slow\n\nx\n")
	var inbox []string
	testkit.Eventually(t, "a delay notice arrives", func() bool {
		inbox = s.Folder("alice@example.test", store.FolderInbox)
		return len(inbox) > 0
	})
	if !strings.Contains(inbox[0], "Action: delayed") || !strings.Contains(inbox[0], "Subject: Delayed: slow") || !strings.Contains(inbox[0], "Will-Retry-Until:") {
		t.Fatalf("delay notice:\n%s", inbox[0])
	}
	after := row(t, s, id, "late@slow.test").Attempts
	testkit.Eventually(t, "three more attempts", func() bool { return row(t, s, id, "late@slow.test").Attempts >= after+3 })
	if n := len(s.Folder("alice@example.test", store.FolderInbox)); n != 1 {
		t.Fatalf("alice has %d notices after more failed attempts, want the one delay notice", n)
	}

	// A second server whose max_age is short gives up with 4.4.7.
	s2 := testkit.Start(t, fixture, testkit.WithRemote(r), withDelivery(func(d *config.Delivery) {
		d.DelayNotice = 0
		d.MaxAge = config.Duration(150 * time.Millisecond)
	}))
	id2 := s2.Send("alice@example.test", pw, "alice@example.test", []string{"never@slow.test"}, "Subject: never\n\nx\n")
	waitState(t, s2, id2, map[string]string{"never@slow.test": store.StateFailed})
	rw := row(t, s2, id2, "never@slow.test")
	// Usually two attempts (the first, and one last at the deadline); on
	// a loaded machine the first may already come after max_age, and then
	// it is the last.
	if rw.Attempts < 1 || !strings.Contains(rw.LastReply, "421 4.3.2") || !strings.Contains(rw.LastReply, "given up") {
		t.Errorf("expired row %+v", rw)
	}
	testkit.Eventually(t, "the expiry DSN arrives", func() bool { return len(s2.Folder("alice@example.test", store.FolderInbox)) == 1 })
	dsn := s2.Folder("alice@example.test", store.FolderInbox)[0]
	if !strings.Contains(dsn, "Action: failed") || !strings.Contains(dsn, "Status: 4.4.7") || strings.Contains(dsn, "Action: delayed") {
		t.Errorf("expiry DSN:\n%s", dsn)
	}
}

func TestDeliver_ReusesConnectionsWithinTheCap(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{})
	s := testkit.Start(t, fixture, testkit.WithRemote(r), withDelivery(func(d *config.Delivery) { d.DestinationConnections = 1 }))
	for i := range 4 {
		s.Send("alice@example.test", pw, "alice@example.test", []string{fmt.Sprintf("r%d@remote.test", i)}, "Subject: many\n\nx\n")
	}
	testkit.Eventually(t, "four messages arrive", func() bool { return len(mx.Accepted()) == 4 })
	if n := mx.Connections(); n != 1 {
		t.Errorf("%d connections for 4 messages with destination_connections = 1, want 1 (reused)", n)
	}
}
