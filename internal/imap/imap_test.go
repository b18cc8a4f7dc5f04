package imap_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/emersion/go-sasl"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
)

const pw = "correct-horse-battery"

// fixture: example.test with alice and bob (users) and info (shared).
func fixture(a *admin.Service) {
	ctx := context.Background()
	if _, err := a.AddDomain(ctx, "example.test"); err != nil {
		panic(err)
	}
	for _, m := range []admin.NewMailbox{
		{Address: "alice@example.test", DisplayName: "Alice", Password: pw},
		{Address: "bob@example.test", Password: pw},
		{Address: "info@example.test", Shared: true},
	} {
		if _, _, err := a.AddMailbox(ctx, m); err != nil {
			panic(err)
		}
	}
}

// submit sends msg from alice to rcpts over SMTP submission.
func submit(t *testing.T, s *testkit.Server, rcpts []string, msg string) {
	t.Helper()
	c, err := testkit.DialSubmission(s.Addr("submission"), s.TLSConfig(), "alice@example.test", pw)
	if err != nil {
		t.Fatalf("dial submission: %v", err)
	}
	defer c.Close()
	if r := c.Send("alice@example.test", rcpts, msg); !r.Accepted() {
		t.Fatalf("submission not accepted: %+v", r)
	}
}

// message is a submitted message with Message-ID id.
func message(id, subject string) string {
	return "From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nBcc: secret@example.test\r\nSubject: " + subject +
		"\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + id + ">\r\n\r\nHello Bob.\r\n"
}

// fetchAll fetches every message of the selected folder with its UID,
// flags and body.
func fetchAll(t *testing.T, c *imapclient.Client) []*imapclient.FetchMessageBuffer {
	t.Helper()
	all := goimap.SeqSet{{Start: 1, Stop: 0}}
	out, err := c.Fetch(all, &goimap.FetchOptions{UID: true, Flags: true, RFC822Size: true, BodySection: []*goimap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	return out
}

// code is the response code of a command's error.
func code(err error) goimap.ResponseCode {
	var ie *goimap.Error
	if errors.As(err, &ie) {
		return ie.Code
	}
	return ""
}

func TestIMAP_ListAndFetchSubmitted(t *testing.T) {
	s := testkit.Start(t, fixture)
	submit(t, s, []string{"bob@example.test"}, message("m1@example.test", "Lunch"))

	bob := s.LoginIMAP("bob@example.test", pw, nil)
	list, err := bob.List("", "*", &goimap.ListOptions{ReturnSpecialUse: true}).Collect()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	got := map[string][]goimap.MailboxAttr{}
	for _, l := range list {
		got[l.Mailbox] = l.Attrs
	}
	if _, ok := got["INBOX"]; !ok || !slices.Contains(got["Sent Items"], goimap.MailboxAttrSent) || len(got) != 2 {
		t.Fatalf("LIST = %+v", got)
	}
	sel, err := bob.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 1 || sel.UIDValidity == 0 {
		t.Fatalf("select INBOX = %+v, %v", sel, err)
	}
	msgs := fetchAll(t, bob)
	if len(msgs) != 1 || msgs[0].UID != 1 {
		t.Fatalf("INBOX = %+v", msgs)
	}
	body := string(msgs[0].BodySection[0].Bytes)
	if !strings.Contains(body, "Subject: Lunch") || strings.Contains(body, "Bcc:") || int64(len(body)) != msgs[0].RFC822Size {
		t.Errorf("INBOX message (size %d):\n%s", msgs[0].RFC822Size, body)
	}

	alice := s.LoginIMAP("alice@example.test", pw, nil)
	if _, err := alice.Select("Sent Items", nil).Wait(); err != nil {
		t.Fatalf("select Sent Items: %v", err)
	}
	msgs = fetchAll(t, alice)
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].BodySection[0].Bytes), "Bcc: secret@example.test") {
		t.Fatalf("Sent Items = %+v", msgs)
	}
	if len(msgs[0].Flags) != 0 {
		t.Errorf("flags after BODY.PEEK: %v", msgs[0].Flags)
	}
}

// plainClient is a SASL PLAIN client.
func plainClient(user, pass string) sasl.Client { return sasl.NewPlainClient("", user, pass) }
