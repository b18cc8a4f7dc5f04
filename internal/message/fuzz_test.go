package message

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzHeader drives what acceptance does with a submitted header: parse
// it, read From: and Sender:, rewrite From:, complete it, strip Bcc and
// write it back. Whatever the input: no panic; the written header reads
// back with the same fields; rewriting From: keeps its addresses; and a
// header without bare CR or LF is written without any (what mailroom
// stores and relays must never carry one). Seeds: testdata/fuzz/FuzzHeader.
func FuzzHeader(f *testing.F) {
	for _, s := range []string{
		"From: Alice <alice@example.com>\r\nSubject: hi\r\n\r\nbody\r\n",
		"From: a@example.com, \"B, Jr.\" <b@example.com>\r\nSender: c@example.com\r\nBcc: d@example.com\r\n\r\n",
		"From: =?utf-8?q?J=C3=B6rg?= <j@example.com>\r\nMessage-ID: <x@y>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n",
		"Subject: folded\r\n  continuation\r\n\tmore\r\n\r\n",
		"From: undisclosed-recipients:;\r\n\r\n",
		"From: Jörg <jörg@bücher.example>\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	st := Stamp{Hostname: "mail.example.test", Helo: "client", RemoteIP: "127.0.0.1", TLS: "TLS 1.3", QueueID: "q1", Now: time.Unix(1800000000, 0).UTC()}
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := ReadHeader(bufio.NewReader(bytes.NewReader(in)))
		if err != nil {
			return
		}
		from, fromErr := AddressList(h, "From")
		_, _ = AddressList(h, "Sender")
		if fromErr == nil && len(from) > 0 {
			for i := range from {
				from[i].Name = strings.ToUpper(from[i].Name) // a display-name rewrite
			}
			SetAddressList(&h, "From", from)
			again, err := Addresses(h, "From")
			if err != nil {
				t.Fatalf("From: %q does not parse after rewriting: %v", h.Get("From"), err)
			}
			for i, a := range again {
				if a != from[i].Norm {
					t.Fatalf("rewriting From: changed address %d: %q → %q", i, from[i].Norm, a)
				}
			}
		}
		if _, err := Complete(&h, st, "alice@example.com"); err != nil {
			t.Fatalf("Complete: %v", err)
		}
		if !h.Has("From") || !h.Has("Date") || !h.Has("Message-Id") || !h.Has("Received") {
			t.Fatal("Complete left a field out")
		}
		var full, dlv bytes.Buffer
		if err := WriteHeader(&full, h); err != nil {
			t.Fatalf("WriteHeader: %v", err)
		}
		if err := WriteHeader(&dlv, WithoutDropped(h)); err != nil {
			t.Fatalf("WriteHeader without Bcc: %v", err)
		}
		back, err := ReadHeader(bufio.NewReader(bytes.NewReader(full.Bytes())))
		if err != nil {
			t.Fatalf("written header does not read back: %v\n%q", err, full.Bytes())
		}
		if back.Len() != h.Len() {
			t.Fatalf("header had %d fields, reads back with %d", h.Len(), back.Len())
		}
		noBcc, err := ReadHeader(bufio.NewReader(bytes.NewReader(dlv.Bytes())))
		if err != nil || HasDropped(noBcc) {
			t.Fatalf("recipients' copy: Bcc kept or unreadable (%v)", err)
		}
		if !hasBareLineEnding(in) && hasBareLineEnding(full.Bytes()) {
			t.Fatalf("rewriting introduced a bare CR or LF:\n%q", full.Bytes())
		}
	})
}

// hasBareLineEnding reports a CR or LF that is not part of a CR LF pair.
func hasBareLineEnding(b []byte) bool {
	for i, c := range b {
		if c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			return true
		}
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			return true
		}
	}
	return false
}
