package delivery_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"mailroom/internal/config"

	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// TestDelivery_HeaderOverBoundFailsWithDSN: a queued message whose header
// is longer than max_header_bytes (stored before the bound, or by an older
// version) is not parsed whole at delivery: its recipients fail at once
// (552 5.3.4, a header cannot shrink on a retry), nothing reaches the
// remote, and the sender's DSN leaves the oversized header out.
func TestDelivery_HeaderOverBoundFailsWithDSN(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{})
	s := testkit.Start(t, fixture, testkit.WithRemote(r), withDelivery(func(c *config.Delivery) { c.QueuePoll = config.Duration(20 * time.Millisecond) }))
	ctx := context.Background()
	alice, err := s.Store.Mailbox(ctx, "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Blobs.Create()
	if err != nil {
		t.Fatal(err)
	}
	// 300 KiB of folded lines in one field, over the 256 KiB default.
	w.Write([]byte("From: alice@example.test\r\nSubject: big\r\nX-Big: start\r\n" + strings.Repeat("\tfolded-line-of-the-oversized-header-xxxxxxxxxxxxxxxxxxxxxxxxx\r\n", 300<<10/64) + "\r\nbody\r\n"))
	if err := w.Commit("BIGHDR.eml"); err != nil {
		t.Fatal(err)
	}
	err = s.Store.Accept(ctx, store.Acceptance{
		Message:    store.Message{ID: "BIGHDR", MessageID: "bighdr@example.test", MailboxID: alice.ID, EnvelopeFrom: alice.Address, Size: w.Size(), Blob: "BIGHDR.eml", DeliveryBlob: "BIGHDR.eml"},
		Recipients: []string{"bob@remote.test"},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, s, "BIGHDR", map[string]string{"bob@remote.test": store.StateFailed})
	if got := row(t, s, "BIGHDR", "bob@remote.test"); !strings.HasPrefix(got.LastReply, "552 5.3.4 ") || got.Attempts != 1 {
		t.Errorf("row %+v, want one attempt failed with 552 5.3.4", got)
	}
	if n := len(mx.Messages()); n != 0 {
		t.Errorf("the remote got %d messages, want none", n)
	}
	var dsn string
	testkit.Eventually(t, "alice gets the DSN", func() bool {
		inbox := s.Folder("alice@example.test", store.FolderInbox)
		if len(inbox) == 1 {
			dsn = inbox[0]
		}
		return dsn != ""
	})
	if !strings.Contains(dsn, "Action: failed") || !strings.Contains(dsn, "5.3.4") || strings.Contains(dsn, "folded-line") {
		t.Errorf("DSN: want Action: failed, 5.3.4 and no oversized header:\n%.2000s", dsn)
	}
}

// TestDelivery_DroppedHeadersNeverReachRecipients: a message submitted
// with Bcc:, Resent-Bcc:, Return-Path: and Content-Length: reaches the
// remote without any of them (Postfix's message_drop_headers), while the
// sender's Sent Items copy keeps Bcc: as submitted.
func TestDelivery_DroppedHeadersNeverReachRecipients(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{})
	s := testkit.Start(t, fixture, testkit.WithRemote(r))
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@remote.test", "hidden@remote.test"},
		"From: alice@example.test\nTo: bob@remote.test\nBcc: hidden@remote.test\nResent-Bcc: resent-hidden@remote.test\n"+
			"Return-Path: <forged@elsewhere.test>\nContent-Length: 3\nSubject: drop\n\nthe body\n")
	waitState(t, s, id, map[string]string{"bob@remote.test": store.StateDelivered, "hidden@remote.test": store.StateDelivered})
	got := mx.Accepted()
	if len(got) != 1 {
		t.Fatalf("the remote accepted %d messages, want 1", len(got))
	}
	head, _, _ := strings.Cut(string(got[0].Data), "\r\n\r\n")
	for _, f := range []string{"Bcc:", "Resent-Bcc:", "Return-Path:", "Content-Length:", "hidden@", "forged@"} {
		if strings.Contains(strings.ToLower(head), strings.ToLower(f)) {
			t.Errorf("delivered header carries %q:\n%s", f, head)
		}
	}
	if !strings.Contains(string(got[0].Data), "the body") {
		t.Errorf("delivered copy lost its body:\n%s", got[0].Data)
	}
	sent := s.Folder("alice@example.test", store.FolderSent)
	if len(sent) != 1 || !strings.Contains(sent[0], "Bcc: hidden@remote.test") {
		t.Errorf("Sent Items: %q, want the copy with Bcc:", sent)
	}
}
