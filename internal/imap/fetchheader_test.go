package imap_test

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailroom/internal/config"
	"mailroom/internal/testkit"
)

// TestIMAP_FetchHeaderOnlyAsWhole: a FETCH that needs only headers
// (ENVELOPE, BODY.PEEK[HEADER], BODY.PEEK[HEADER.FIELDS ...]) answers
// what the same FETCH answers when it also reads the whole message, for
// headers of every shape (longer than one batched read, without an empty
// line, with bare LFs, with obsolete or malformed dates), more messages
// than one batch, and bodies in the database, in files and on PostgreSQL.
func TestIMAP_FetchHeaderOnlyAsWhole(t *testing.T) {
	t.Run("database", func(t *testing.T) { fetchHeaderOnlyAsWhole(t, 205) })
	t.Run("files", func(t *testing.T) {
		fetchHeaderOnlyAsWhole(t, 0, func(c *config.Config) { c.Store.Bodies = config.BodiesFiles })
	})
	t.Run("postgres", func(t *testing.T) { fetchHeaderOnlyAsWhole(t, 0, testkit.WithPostgres(t)) })
}

func fetchHeaderOnlyAsWhole(t *testing.T, filler int, opts ...testkit.Option) {
	s := testkit.Start(t, fixture, opts...)
	bob := s.LoginIMAP("bob@example.test", pw, nil)
	var long strings.Builder
	for i := range 400 {
		fmt.Fprintf(&long, "X-Filler-%d: %s\r\n", i, strings.Repeat("f", 40))
	}
	msgs := []string{
		message("h1@example.test", "Plain"),
		long.String() + message("h2@example.test", "Long header"),
		"From: Alice <alice@example.test>\r\nSubject: No body\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n",
		"From: Alice <alice@example.test>\nSubject: Bare LF\nDate: Mon, 30 Nov 2026 10:00:00 +0000\n\nHello.\n",
		strings.Replace(message("h5@example.test", "Obsolete date"), "Mon, 30 Nov 2026 10:00:00 +0000", "Thu, 20 Nov 1997 09:55:06 MDT (comment)", 1),
		strings.Replace(message("h6@example.test", "Bad date"), "Mon, 30 Nov 2026 10:00:00 +0000", "yesterday", 1),
		strings.Replace(message("h7@example.test", "Folded date"), "Mon, 30 Nov 2026", "Mon,\r\n 30 Nov 2026", 1),
	}
	for i := range filler {
		msgs = append(msgs, message(fmt.Sprintf("f%d@example.test", i), fmt.Sprintf("Filler %d", i)))
	}
	for i, m := range msgs {
		appendMessage(t, bob, m, i)
	}
	if _, err := bob.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	sections := []*goimap.FetchItemBodySection{
		{Specifier: goimap.PartSpecifierHeader, Peek: true},
		{Specifier: goimap.PartSpecifierHeader, HeaderFields: []string{"Subject", "Date"}, Peek: true},
		{Specifier: goimap.PartSpecifierHeader, HeaderFieldsNot: []string{"Subject"}, Peek: true},
	}
	headers := &goimap.FetchOptions{UID: true, Envelope: true, RFC822Size: true, BodySection: sections}
	whole := &goimap.FetchOptions{UID: true, Envelope: true, RFC822Size: true, BodySection: append(sections[:3:3], &goimap.FetchItemBodySection{Peek: true})}
	all := goimap.SeqSet{{Start: 1, Stop: 0}}
	got, err := bob.Fetch(all, headers).Collect()
	if err != nil {
		t.Fatalf("fetch headers: %v", err)
	}
	want, err := bob.Fetch(all, whole).Collect()
	if err != nil {
		t.Fatalf("fetch whole messages: %v", err)
	}
	if len(got) != len(msgs) || len(want) != len(msgs) {
		t.Fatalf("fetched %d and %d messages, want %d", len(got), len(want), len(msgs))
	}
	for i := range msgs {
		g, w := got[i], want[i]
		if g.UID != w.UID || !reflect.DeepEqual(g.Envelope, w.Envelope) {
			t.Errorf("message %d: UID %d envelope %+v; read whole: UID %d envelope %+v", i+1, g.UID, g.Envelope, w.UID, w.Envelope)
		}
		for _, bs := range sections {
			if gb, wb := g.FindBodySection(bs), w.FindBodySection(bs); string(gb) != string(wb) {
				t.Errorf("message %d %+v: %q; read whole: %q", i+1, bs, gb, wb)
			}
		}
	}
	if env := got[0].Envelope; env.Subject != "Plain" || env.Date.IsZero() || len(env.From) != 1 {
		t.Errorf("envelope of the plain message: %+v", env)
	}
	if h := string(got[1].FindBodySection(sections[1])); !strings.Contains(h, "Subject: Long header") {
		t.Errorf("HEADER.FIELDS of the long header: %q", h)
	}
	if env := got[5].Envelope; !env.Date.IsZero() || env.Subject != "Bad date" {
		t.Errorf("envelope of the bad date: %+v", env)
	}
}

// appendMessage APPENDs msg to c's INBOX.
func appendMessage(t testing.TB, c *imapclient.Client, msg string, i int) {
	t.Helper()
	cmd := c.Append("INBOX", int64(len(msg)), nil)
	if _, err := io.WriteString(cmd, msg); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("append %d: %v", i, err)
	}
}
