package imap_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// TestIMAP_FlagsPersistAcrossRestart: flags and keywords set over IMAP,
// and the UIDs and UIDVALIDITY, are the same after a restart.
func TestIMAP_FlagsPersistAcrossRestart(t *testing.T) {
	s := testkit.Start(t, fixture)
	submit(t, s, []string{"bob@example.test"}, message("m1@example.test", "One"))
	submit(t, s, []string{"bob@example.test"}, message("m2@example.test", "Two"))
	bob := s.LoginIMAP("bob@example.test", pw, nil)
	sel, err := bob.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.Store(goimap.SeqSetNum(2), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Silent: true,
		Flags: []goimap.Flag{goimap.FlagFlagged, "$Label1", `\seen`}}, nil).Close(); err != nil {
		t.Fatalf("store: %v", err)
	}
	// A non-PEEK fetch sets \Seen on the first.
	if _, err := bob.Fetch(goimap.SeqSetNum(1), &goimap.FetchOptions{BodySection: []*goimap.FetchItemBodySection{{}}}).Collect(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	bob.Close()

	s.Restart()
	bob = s.LoginIMAP("bob@example.test", pw, nil)
	again, err := bob.Select("INBOX", nil).Wait()
	if err != nil || again.UIDValidity != sel.UIDValidity || again.UIDNext != sel.UIDNext {
		t.Fatalf("after restart: %+v, %v; before %+v", again, err, sel)
	}
	msgs := fetchAll(t, bob)
	if len(msgs) != 2 || msgs[0].UID != 1 || msgs[1].UID != 2 {
		t.Fatalf("messages = %+v", msgs)
	}
	if !slices.Equal(msgs[0].Flags, []goimap.Flag{goimap.FlagSeen}) ||
		!slices.Equal(msgs[1].Flags, []goimap.Flag{"$Label1", goimap.FlagFlagged, goimap.FlagSeen}) {
		t.Errorf("flags after restart: %v, %v", msgs[0].Flags, msgs[1].Flags)
	}
}

// TestIMAP_IdleSeesDelivery: a session idling in INBOX hears of a message
// submitted meanwhile (EXISTS).
func TestIMAP_IdleSeesDelivery(t *testing.T) {
	s := testkit.Start(t, fixture)
	exists := make(chan uint32, 10)
	bob := s.LoginIMAP("bob@example.test", pw, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	}})
	if _, err := bob.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := bob.Idle()
	if err != nil {
		t.Fatal(err)
	}
	submit(t, s, []string{"bob@example.test"}, message("m1@example.test", "Ping"))
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d", n)
		}
	case <-time.After(30 * time.Second): // a bound for a broken server, not a timing assertion
		t.Fatal("IDLE reported no new message")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestIMAP_AppendSentDedupe: the client's APPEND of what it sent over SMTP
// is stored once, its flags on mailroom's copy; another message is stored.
func TestIMAP_AppendSentDedupe(t *testing.T) {
	s := testkit.Start(t, fixture)
	msg := message("m1@example.test", "Report")
	submit(t, s, []string{"bob@example.test"}, msg)
	alice := s.LoginIMAP("alice@example.test", pw, nil)

	appendMsg := func(folder, body string, flags ...goimap.Flag) (*goimap.AppendData, error) {
		cmd := alice.Append(folder, int64(len(body)), &goimap.AppendOptions{Flags: flags})
		if _, err := io.WriteString(cmd, body); err != nil {
			return nil, err
		}
		if err := cmd.Close(); err != nil {
			return nil, err
		}
		return cmd.Wait()
	}
	d, err := appendMsg("Sent Items", msg, goimap.FlagSeen)
	if err != nil || d.UID != 1 {
		t.Fatalf("append of the sent message = %+v, %v; want OK naming UID 1", d, err)
	}
	other := strings.Replace(message("m2@example.test", "Draft"), "Bcc: secret@example.test\r\n", "", 1)
	d, err = appendMsg("Sent Items", other)
	if err != nil || d.UID != 2 {
		t.Fatalf("append of another message = %+v, %v", d, err)
	}
	if _, err := alice.Select("Sent Items", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs := fetchAll(t, alice)
	if len(msgs) != 2 || !slices.Equal(msgs[0].Flags, []goimap.Flag{goimap.FlagSeen}) || string(msgs[1].BodySection[0].Bytes) != other {
		t.Fatalf("Sent Items = %+v", msgs)
	}
	// The same message appended to another folder is stored there.
	if err := alice.Create("Archive", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := appendMsg("Archive", msg); err != nil {
		t.Fatalf("append to Archive: %v", err)
	}
	if st, err := alice.Status("Archive", &goimap.StatusOptions{NumMessages: true}).Wait(); err != nil || *st.NumMessages != 1 {
		t.Errorf("Archive = %+v, %v", st, err)
	}
	if _, err := appendMsg("Nope", msg); code(err) != goimap.ResponseCodeTryCreate {
		t.Errorf("append to a missing folder: %v, want TRYCREATE", err)
	}
	ev := waitTrace(t, s, func(e store.TraceEvent) bool {
		return e.Kind == trace.KindAppend && strings.Contains(e.Detail, "deduplicated")
	})
	if ev.MessageID != "m1@example.test" || ev.Mailbox != "alice@example.test" {
		t.Errorf("trace = %+v", ev)
	}
}

// TestIMAP_AppendOverQuota: an APPEND that would take the mailbox over its
// quota is NO [OVERQUOTA], and so is a COPY.
func TestIMAP_AppendOverQuota(t *testing.T) {
	s := testkit.Start(t, fixture)
	submit(t, s, []string{"bob@example.test"}, message("m1@example.test", "One"))
	q := int64(600)
	_, err := s.Admin.SetMailbox(context.Background(), "bob@example.test", admin.MailboxChange{QuotaBytes: &q})
	testkit.MustAdd(t, err)
	s.SyncDirectory()
	bob := s.LoginIMAP("bob@example.test", pw, nil)
	body := strings.Repeat("x", 400)
	cmd := bob.Append("INBOX", int64(len(body)), nil)
	_, _ = io.WriteString(cmd, body)
	_ = cmd.Close()
	if _, err := cmd.Wait(); code(err) != goimap.ResponseCodeOverQuota {
		t.Fatalf("append over quota: %v, want OVERQUOTA", err)
	}
	if _, err := bob.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Copy(goimap.SeqSetNum(1), "Sent Items").Wait(); code(err) != goimap.ResponseCodeOverQuota {
		t.Fatalf("copy over quota: %v, want OVERQUOTA", err)
	}

	// The refused APPEND is a row of the readable trace, with its reason
	// and the reply sent.
	s.Daemon.FlushTrace()
	page, err := s.Admin.TraceAttempts(context.Background(), admin.TraceQuery{Mailbox: "bob@example.test", Status: trace.StatusRefused}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Attempts) != 1 {
		t.Fatalf("bob's refused attempts in the trace: %+v, want the APPEND", page.Attempts)
	}
	a := page.Attempts[0]
	if a.Command != "APPEND" || a.Reason != string(goimap.ResponseCodeOverQuota) || a.Size != int64(len(body)) ||
		!strings.HasPrefix(a.Reply, "NO [OVERQUOTA] ") {
		t.Errorf("the refused APPEND in the trace: %+v", a)
	}
}

// TestIMAP_MoveExpungeSearch: MOVE gives new UIDs in the target and
// expunges the source; EXPUNGE removes \Deleted only; SEARCH on headers
// and dates.
func TestIMAP_MoveExpungeSearch(t *testing.T) {
	s := testkit.Start(t, fixture)
	for _, subj := range []string{"Invoice 1", "Lunch", "Invoice 2"} {
		submit(t, s, []string{"bob@example.test"}, message(strings.ReplaceAll(subj, " ", "")+"@example.test", subj))
	}
	bob := s.LoginIMAP("bob@example.test", pw, nil)
	if _, err := bob.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	res, err := bob.UIDSearch(&goimap.SearchCriteria{Header: []goimap.SearchCriteriaHeaderField{{Key: "Subject", Value: "invoice"}}}, nil).Wait()
	if err != nil || !slices.Equal(res.AllUIDs(), []goimap.UID{1, 3}) {
		t.Fatalf("SEARCH SUBJECT invoice = %v, %v", res.AllUIDs(), err)
	}
	res, err = bob.Search(&goimap.SearchCriteria{SentSince: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), Body: []string{"hello bob"}}, nil).Wait()
	if err != nil || !slices.Equal(res.AllSeqNums(), []uint32{1, 2, 3}) {
		t.Fatalf("SEARCH SENTSINCE BODY = %v, %v", res.AllSeqNums(), err)
	}
	res, err = bob.Search(&goimap.SearchCriteria{Since: time.Now().AddDate(0, 0, 2)}, nil).Wait()
	if err != nil || len(res.AllSeqNums()) != 0 {
		t.Fatalf("SEARCH SINCE the day after tomorrow = %v, %v", res.AllSeqNums(), err)
	}
	if err := bob.Create("Invoices", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	mv, err := bob.Move(goimap.UIDSetNum(1, 3), "Invoices").Wait()
	if err != nil || mv.UIDValidity == 0 || mv.DestUIDs.String() != "1:2" {
		t.Fatalf("MOVE = %+v, %v", mv, err)
	}
	if err := bob.Store(goimap.SeqSetNum(1), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Silent: true, Flags: []goimap.Flag{goimap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	gone, err := bob.Expunge().Collect()
	if err != nil || !slices.Equal(gone, []uint32{1}) {
		t.Fatalf("EXPUNGE = %v, %v", gone, err)
	}
	st, err := bob.Status("Invoices", &goimap.StatusOptions{NumMessages: true, UIDNext: true}).Wait()
	if err != nil || *st.NumMessages != 2 || st.UIDNext != 3 {
		t.Fatalf("STATUS Invoices = %+v, %v", st, err)
	}
	if _, err := bob.Move(goimap.SeqSetNum(1), "Nope").Wait(); code(err) != goimap.ResponseCodeTryCreate {
		t.Errorf("MOVE to a missing folder: %v, want TRYCREATE", err)
	}
	if err := bob.Delete("INBOX").Wait(); code(err) != goimap.ResponseCodeCannot {
		t.Errorf("DELETE INBOX: %v, want CANNOT", err)
	}
}

// TestIMAP_Refusals: a wrong password (or an unknown user) is
// AUTHENTICATIONFAILED; only a correct one learns that IMAP is off, the
// network not allowed or the mailbox shared (AUTHORIZATIONFAILED); every
// one is traced.
func TestIMAP_Refusals(t *testing.T) {
	s := testkit.Start(t, fixture)
	ctx := context.Background()
	off := false
	_, err := s.Admin.SetMailbox(ctx, "bob@example.test", admin.MailboxChange{IMAP: &off})
	testkit.MustAdd(t, err)
	nets := []string{"192.0.2.0/24"}
	_, err = s.Admin.SetMailbox(ctx, "alice@example.test", admin.MailboxChange{Networks: &nets})
	testkit.MustAdd(t, err)
	s.SyncDirectory()
	for _, tc := range []struct {
		user, pass string
		code       goimap.ResponseCode
		mention    string
		reason     string
	}{
		{"alice@example.test", "wrong", goimap.ResponseCodeAuthenticationFailed, "Authentication failed", "bad_credentials"},
		{"nobody@example.test", pw, goimap.ResponseCodeAuthenticationFailed, "Authentication failed", "bad_credentials"},
		{"bob@example.test", "wrong", goimap.ResponseCodeAuthenticationFailed, "Authentication failed", "bad_credentials"},
		{"bob@example.test", pw, goimap.ResponseCodeAuthorizationFailed, "--imap=on", "imap_disabled"},
		{"alice@example.test", pw, goimap.ResponseCodeAuthorizationFailed, "IMAP for mailbox alice@example.test is allowed only from 192.0.2.0/24", "network_not_allowed"},
	} {
		c := s.DialIMAP(nil)
		err := c.Login(tc.user, tc.pass).Wait()
		var ie *goimap.Error
		if !errors.As(err, &ie) || ie.Code != tc.code || !strings.Contains(ie.Text, tc.mention) {
			t.Errorf("login %s/%s: %v, want [%s] ...%s", tc.user, tc.pass, err, tc.code, tc.mention)
		}
		waitTrace(t, s, func(e store.TraceEvent) bool {
			return e.Kind == trace.KindAuth && e.Command == "LOGIN" && e.Mailbox == tc.user && e.Reason == tc.reason
		})
	}
	// AUTHENTICATE PLAIN takes the same path.
	c := s.DialIMAP(nil)
	if err := c.Authenticate(plainClient("bob@example.test", pw)); code(err) != goimap.ResponseCodeAuthorizationFailed {
		t.Errorf("AUTHENTICATE PLAIN with IMAP off: %v", err)
	}

	// The refusals are rows of the readable trace, as SMTP's are.
	s.Daemon.FlushTrace()
	page, err := s.Admin.TraceAttempts(ctx, admin.TraceQuery{Mailbox: "bob@example.test", Status: trace.StatusRefused}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, a := range page.Attempts {
		reasons = append(reasons, a.Command+" "+a.Reason)
	}
	if len(page.Attempts) != 3 || !slices.Contains(reasons, "LOGIN imap_disabled") || !slices.Contains(reasons, "AUTHENTICATE imap_disabled") {
		t.Errorf("bob's refused IMAP logins in the trace: %q, want 2 imap_disabled and 1 bad_credentials", reasons)
	}
}

// TestIMAP_NoLoginBeforeTLS: the STARTTLS port advertises LOGINDISABLED
// and refuses LOGIN until STARTTLS, then takes it.
func TestIMAP_NoLoginBeforeTLS(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := s.DialIMAPPlain()
	caps, err := c.Capability().Wait()
	if err != nil || !caps.Has(goimap.CapLoginDisabled) || !caps.Has(goimap.CapStartTLS) || caps.Has("AUTH=PLAIN") {
		t.Fatalf("capabilities before TLS: %v, %v", caps, err)
	}
	if err := c.Login("alice@example.test", pw).Wait(); code(err) != goimap.ResponseCodePrivacyRequired {
		t.Fatalf("LOGIN before TLS: %v, want PRIVACYREQUIRED", err)
	}
	nc, err := net.Dial("tcp", s.IMAPAddr())
	if err != nil {
		t.Fatal(err)
	}
	st, err := imapclient.NewStartTLS(nc, &imapclient.Options{TLSConfig: s.TLSConfig()})
	if err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	defer st.Close()
	if err := st.Login("alice@example.test", pw).Wait(); err != nil {
		t.Fatalf("LOGIN after STARTTLS: %v", err)
	}
}

// TestIMAP_PreAuthBound: a client that sends more than preauth_bytes
// before logging in is disconnected.
func TestIMAP_PreAuthBound(t *testing.T) {
	s := testkit.Start(t, fixture)
	nc, err := net.Dial("tcp", s.IMAPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	line := []byte("a NOOP\r\n")
	junk := bytes.Repeat(line, int(s.Config.IMAP.PreAuthBytes)/len(line)+2)
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	go func() { _, _ = nc.Write(junk) }()
	_, err = io.Copy(io.Discard, nc) // EOF, or a reset: the server closed with data unread
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was not closed by the server: %v", err)
	}
}

// TestIMAP_FullAccessNamespace: a full-access grant shows the shared
// mailbox's folders under Shared/, with its Sent Items copies.
func TestIMAP_FullAccessNamespace(t *testing.T) {
	s := testkit.Start(t, fixture)
	ctx := context.Background()
	yes := true
	_, err := s.Admin.SetMailbox(ctx, "info@example.test", admin.MailboxChange{CopySentAs: &yes})
	testkit.MustAdd(t, err)
	for _, g := range []admin.GrantSpec{{Kind: store.GrantSendAs, On: "info@example.test", To: "alice@example.test"},
		{Kind: store.GrantFullAccess, On: "info@example.test", To: "bob@example.test"}} {
		_, err = s.Admin.AddGrant(ctx, g)
		testkit.MustAdd(t, err)
	}
	s.SyncDirectory()
	msg := strings.Replace(message("m1@example.test", "From support"), "From: Alice <alice@example.test>", "From: Support <info@example.test>", 1)
	submit(t, s, []string{"carol@elsewhere.test"}, msg)

	bob := s.LoginIMAP("bob@example.test", pw, nil)
	ns, err := bob.Namespace().Wait()
	if err != nil || len(ns.Other) != 1 || ns.Other[0].Prefix != "Shared/" || ns.Personal[0].Prefix != "" {
		t.Fatalf("NAMESPACE = %+v, %v", ns, err)
	}
	list, err := bob.List("", "Shared/*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range list {
		names = append(names, l.Mailbox)
	}
	want := []string{"Shared/info@example.test", "Shared/info@example.test/INBOX", "Shared/info@example.test/Sent Items"}
	if !slices.Equal(names, want) {
		t.Fatalf("LIST Shared/* = %q, want %q", names, want)
	}
	if _, err := bob.Select("Shared/info@example.test/Sent Items", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs := fetchAll(t, bob)
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].BodySection[0].Bytes), "Subject: From support") {
		t.Fatalf("shared Sent Items = %+v", msgs)
	}
	// Without the grant there is no such folder.
	alice := s.LoginIMAP("alice@example.test", pw, nil)
	if _, err := alice.Select("Shared/info@example.test/Sent Items", nil).Wait(); code(err) != goimap.ResponseCodeNonExistent {
		t.Errorf("SELECT without full access: %v, want NONEXISTENT", err)
	}
	// The shared mailbox itself cannot log in.
	c := s.DialIMAP(nil)
	if err := c.Login("info@example.test", "x").Wait(); code(err) != goimap.ResponseCodeAuthenticationFailed {
		t.Errorf("login as the shared mailbox: %v", err)
	}
}

// waitTrace waits until the trace holds an event ok accepts and returns it.
func waitTrace(t *testing.T, s *testkit.Server, ok func(store.TraceEvent) bool) store.TraceEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		es, err := s.Store.SearchTrace(context.Background(), store.TraceFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if ok(e) {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such trace event among %+v", es)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIMAP_LoginGuardShared: failed IMAP logins count against the address
// as SMTP AUTH failures do, in the same counters: once IMAP has used up
// the address's failures, SMTP AUTH from it is refused too.
func TestIMAP_LoginGuardShared(t *testing.T) {
	s := testkit.Start(t, fixture, func(c *config.Config) { c.Limits.LoginFailuresPerAddress = 2 })
	c := s.DialIMAP(nil)
	if err := c.Login("alice@example.test", "wrong").Wait(); code(err) != goimap.ResponseCodeAuthenticationFailed {
		t.Fatalf("wrong password: %v", err)
	}
	// The second failure locks the address (as SMTP AUTH's does).
	if err := c.Login("alice@example.test", "wrong").Wait(); code(err) != goimap.ResponseCodeUnavailable {
		t.Fatalf("second wrong password: %v, want UNAVAILABLE", err)
	}
	c = s.DialIMAP(nil)
	if err := c.Login("alice@example.test", pw).Wait(); code(err) != goimap.ResponseCodeUnavailable {
		t.Fatalf("IMAP login after the failures: %v, want UNAVAILABLE", err)
	}
	sc := testkit.Dial(t, s.Addr("submission"))
	sc.MustCmd("EHLO client.example.test", 250, "")
	sc.StartTLS(s.TLSConfig())
	sc.Expect(sc.AuthPlain("alice@example.test", pw), 421, "4.7.0")
}

// TestIMAP_Postgres: on PostgreSQL, a submitted message is in INBOX with
// its UID, and IDLE hears of the next one.
func TestIMAP_Postgres(t *testing.T) {
	s := testkit.Start(t, fixture, testkit.WithPostgres(t))
	submit(t, s, []string{"bob@example.test"}, message("m1@example.test", "One"))
	exists := make(chan uint32, 10)
	bob := s.LoginIMAP("bob@example.test", pw, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	}})
	if sel, err := bob.Select("INBOX", nil).Wait(); err != nil || sel.NumMessages != 1 || sel.UIDNext != 2 {
		t.Fatalf("SELECT INBOX = %+v, %v", sel, err)
	}
	idle, err := bob.Idle()
	if err != nil {
		t.Fatal(err)
	}
	submit(t, s, []string{"bob@example.test"}, message("m2@example.test", "Two"))
	select {
	case n := <-exists:
		if n != 2 {
			t.Errorf("EXISTS %d", n)
		}
	case <-time.After(30 * time.Second): // a bound for a broken server, not a timing assertion
		t.Fatal("IDLE reported no new message")
	}
	_ = idle.Close()
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	msgs := fetchAll(t, bob)
	if len(msgs) != 2 || msgs[1].UID != 2 || !strings.Contains(string(msgs[1].BodySection[0].Bytes), "Subject: Two") {
		t.Fatalf("INBOX = %+v", msgs)
	}
}

// TestIMAP_ExamineReadOnly: EXAMINE neither changes flags on FETCH
// BODY[] nor takes STORE or EXPUNGE (imapserver leaves both to the session).
func TestIMAP_ExamineReadOnly(t *testing.T) {
	s := testkit.Start(t, fixture)
	submit(t, s, []string{"bob@example.test"}, message("m1@example.test", "One"))
	bob := s.LoginIMAP("bob@example.test", pw, nil)
	if _, err := bob.Select("INBOX", &goimap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Fetch(goimap.SeqSetNum(1), &goimap.FetchOptions{BodySection: []*goimap.FetchItemBodySection{{}}}).Collect(); err != nil {
		t.Fatal(err)
	}
	if err := bob.Store(goimap.SeqSetNum(1), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Flags: []goimap.Flag{goimap.FlagDeleted}}, nil).Close(); err == nil {
		t.Error("STORE in EXAMINE succeeded")
	}
	if _, err := bob.Expunge().Collect(); err == nil {
		t.Error("EXPUNGE in EXAMINE succeeded")
	}
	if msgs := fetchAll(t, bob); len(msgs) != 1 || len(msgs[0].Flags) != 0 {
		t.Errorf("after EXAMINE: %+v", msgs)
	}
}

// TestIMAP_ConnectionsPerAddress: a connection over [imap]
// max_connections_per_address is closed before the greeting.
func TestIMAP_ConnectionsPerAddress(t *testing.T) {
	s := testkit.Start(t, fixture, func(c *config.Config) { c.IMAP.MaxConnectionsPerAddress = 1 })
	first := s.DialIMAPPlain()
	if err := first.WaitGreeting(); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", s.IMAPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
	b, err := io.ReadAll(nc)
	var ne net.Error
	if len(b) != 0 || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("second connection: read %q, %v; want it closed without a greeting", b, err)
	}
}
