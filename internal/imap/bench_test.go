package imap_test

import (
	"fmt"
	"strings"
	"testing"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailroom/internal/testkit"
)

// benchInbox is the number of messages in the benchmarks' INBOX.
const benchInbox = 2000

// benchServer starts the daemon and fills bob's INBOX with benchInbox
// messages of about 2 KB, APPENDed over IMAP; it returns bob's session.
func benchServer(b *testing.B) *imapclient.Client {
	b.Helper()
	s := testkit.Start(b, fixture)
	bob := s.LoginIMAP("bob@example.test", pw, nil)
	text := strings.Repeat("All work and no play makes a dull message.\r\n", 45)
	for i := range benchInbox {
		msg := strings.Replace(message(fmt.Sprintf("b%d@example.test", i), fmt.Sprintf("Bench %d", i)), "Hello Bob.\r\n", text, 1)
		appendMessage(b, bob, msg, i)
	}
	return bob
}

// BenchmarkIMAP_SelectFetchInbox: what a client does on opening a folder,
// SELECT INBOX and FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE) of a
// 2,000-message INBOX, over loopback TLS with go-imap's client. The
// allocations are the client's and the daemon's together (one process).
func BenchmarkIMAP_SelectFetchInbox(b *testing.B) {
	bob := benchServer(b)
	opts := &goimap.FetchOptions{UID: true, Flags: true, RFC822Size: true, Envelope: true}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := bob.Select("INBOX", nil).Wait(); err != nil {
			b.Fatal(err)
		}
		msgs, err := bob.Fetch(goimap.SeqSet{{Start: 1, Stop: 0}}, opts).Collect()
		if err != nil || len(msgs) != benchInbox {
			b.Fatalf("fetch: %d messages, %v", len(msgs), err)
		}
	}
}

// BenchmarkIMAP_UIDFetchBody: UID FETCH n BODY[] of one message of the
// 2,000 (opening a message), in a selected INBOX.
func BenchmarkIMAP_UIDFetchBody(b *testing.B) {
	bob := benchServer(b)
	if _, err := bob.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	uids := goimap.UIDSetNum(goimap.UID(benchInbox / 2))
	opts := &goimap.FetchOptions{BodySection: []*goimap.FetchItemBodySection{{}}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		msgs, err := bob.Fetch(uids, opts).Collect()
		if err != nil || len(msgs) != 1 || len(msgs[0].BodySection) != 1 || len(msgs[0].BodySection[0].Bytes) < 2000 {
			b.Fatalf("fetch: %+v, %v", msgs, err)
		}
	}
}
