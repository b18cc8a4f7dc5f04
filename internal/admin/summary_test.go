package admin

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"mailroom/internal/config"
	"mailroom/internal/store"
)

// folderOf returns a Service whose alice@example.com holds n messages in
// Sent Items, bodies in the database (SQLite), the needle-th (oldest
// first) with the subject "Needle".
func folderOf(tb testing.TB, n, needle int) *Service {
	tb.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.SetDir(tb.TempDir())
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	blobs, _, err := OpenBodies(cfg, st)
	if err != nil {
		tb.Fatal(err)
	}
	s := New(st)
	s.Blobs = blobs
	s.Params.Time, s.Params.Memory = 1, 1024
	if _, err := s.AddDomain(ctx, "example.com"); err != nil {
		tb.Fatal(err)
	}
	mb, _, err := s.AddMailbox(ctx, NewMailbox{Address: "alice@example.com", Password: "correct-horse-battery"})
	if err != nil {
		tb.Fatal(err)
	}
	a := store.Acceptance{Message: store.Message{ID: "Q0", MailboxID: mb.ID, EnvelopeFrom: "alice@example.com", Blob: "db:Q0", DeliveryBlob: "db:Q0", CreatedAt: time.Now()}}
	for i := range n {
		subject := fmt.Sprintf("Note %d", i)
		if i == needle {
			subject = "Needle"
		}
		if i == n-3 {
			subject = "Long header"
		}
		filler := ""
		if i == n-3 { // a header longer than one batched read
			filler = strings.Repeat("X-Filler: "+strings.Repeat("f", 60)+"\r\n", 300)
		}
		body := filler + fmt.Sprintf("From: Alice <alice@example.com>\r\nTo: Bob <bob@example.org>\r\nSubject: %s\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m%d@example.com>\r\n\r\nhello\r\n", subject, i)
		key := fmt.Sprintf("db:B%d", i)
		a.Bodies = append(a.Bodies, store.Body{Key: key, Data: []byte(body)})
		a.Entries = append(a.Entries, store.FolderEntry{MailboxID: mb.ID, Folder: store.FolderSent, Blob: key, Size: int64(len(body)), CreatedAt: time.Now()})
	}
	if err := st.Accept(ctx, a); err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkFolderPage: a page of a folder listing and a search over all
// of a folder's messages (a Subject that one message has).
func BenchmarkFolderPage(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		s := folderOf(b, n, n/2)
		b.Run(fmt.Sprintf("page/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.FolderPage(b.Context(), "alice@example.com", store.FolderSent, FolderQuery{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("search/%d", n), func(b *testing.B) {
			for b.Loop() {
				p, err := s.FolderPage(b.Context(), "alice@example.com", store.FolderSent, FolderQuery{Search: "needle"})
				if err != nil {
					b.Fatal(err)
				}
				if n <= FolderSearchScan && p.Matched != 1 {
					b.Fatalf("matched %d, want 1", p.Matched)
				}
			}
		})
	}
}

// TestFolderPage_Search: a search reads the newest FolderSearchScan
// messages' headers, batched, and those the batch cannot hold (a header
// over 16 KiB) one by one; an older message is not searched, and the page
// says so.
func TestFolderPage_Search(t *testing.T) {
	s := folderOf(t, FolderSearchScan+1, 0)
	ctx := t.Context()
	search := func(q string) FolderPage {
		t.Helper()
		p, err := s.FolderPage(ctx, "alice@example.com", store.FolderSent, FolderQuery{Search: q})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Pages: the last full one links to the next, the last one to none.
	for _, tc := range []struct{ offset, rows, next int }{
		{FolderSearchScan - 50, MaxFolderPage, FolderSearchScan},
		{FolderSearchScan - 49, MaxFolderPage, -1},
		{FolderSearchScan + 1, 0, -1},
	} {
		p, err := s.FolderPage(ctx, "alice@example.com", store.FolderSent, FolderQuery{Offset: tc.offset})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Rows) != tc.rows || p.Next != tc.next || p.Total != FolderSearchScan+1 {
			t.Errorf("offset %d: %d rows, next %d, total %d; want %d rows, next %d", tc.offset, len(p.Rows), p.Next, p.Total, tc.rows, tc.next)
		}
	}
	if p := search("needle"); p.Matched != 0 || !p.Partial || p.Total != FolderSearchScan+1 {
		t.Errorf("the oldest message, beyond the bound: matched %d, partial %v, total %d", p.Matched, p.Partial, p.Total)
	}
	// The message whose header is over 16 KiB is found and summarized.
	p := search("long header")
	if p.Matched != 1 || len(p.Rows) != 1 || p.Rows[0].Subject != "Long header" || p.Rows[0].From != "Alice <alice@example.com>" || p.Rows[0].Date.IsZero() {
		t.Errorf("long header: matched %d, rows %+v", p.Matched, p.Rows)
	}
	// Every message in the bound matches "note" but the two.
	if p := search("note"); p.Matched != FolderSearchScan-1 || len(p.Rows) != MaxFolderPage || p.Rows[0].Subject != fmt.Sprintf("Note %d", FolderSearchScan) {
		t.Errorf("note: matched %d, %d rows, the first %q", p.Matched, len(p.Rows), p.Rows[0].Subject)
	}
}
