package message

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/textproto"
)

func read(t *testing.T, s string) (*bufio.Reader, error) {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(s))
	_, err := ReadHeader(br)
	return br, err
}

func TestReadHeader_Malformed(t *testing.T) {
	for _, s := range []string{" leading space\r\n\r\n", "no colon here\r\n\r\n", "Bad Key: v\r\n\r\n"} {
		if _, err := read(t, s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ReadHeader(%q) err = %v, want ErrMalformed", s, err)
		}
	}
}

func TestAddresses(t *testing.T) {
	for _, tc := range []struct {
		name, hdr string
		want      []string
		bad       bool
	}{
		{"display name", "From: Alice Smith <Alice@Example.COM>\r\n\r\n", []string{"alice@example.com"}, false},
		{"encoded word", "From: =?utf-8?q?J=C3=B6rg?= <j@example.com>\r\n\r\n", []string{"j@example.com"}, false},
		{"two", "From: a@example.com, b@example.com\r\n\r\n", []string{"a@example.com", "b@example.com"}, false},
		{"absent", "Subject: x\r\n\r\n", nil, false},
		{"garbage", "From: <<<\r\n\r\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ReadHeader(bufio.NewReader(strings.NewReader(tc.hdr)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Addresses(h, "From")
			if tc.bad != (err != nil) || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Addresses = %v, %v; want %v (bad=%v)", got, err, tc.want, tc.bad)
			}
		})
	}
}

func TestComplete(t *testing.T) {
	st := Stamp{Hostname: "mx.example.test", Helo: "client", RemoteIP: "127.0.0.1", TLS: "TLS1.3", QueueID: "Q1", Now: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	t.Run("adds missing fields", func(t *testing.T) {
		h, _ := ReadHeader(bufio.NewReader(strings.NewReader("Subject: hi\r\n\r\n")))
		id, err := Complete(&h, st, "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(id, "Q1.") || !strings.HasSuffix(id, "@mx.example.test") {
			t.Errorf("message id %q", id)
		}
		var b bytes.Buffer
		WriteHeader(&b, h)
		out := strings.ReplaceAll(b.String(), "\r\n ", " ")
		if !strings.HasPrefix(out, "Received: from client ([127.0.0.1]) by mx.example.test (mailroom) with ESMTPSA id Q1 (TLS1.3); Tue, 24 Nov 2026 10:00:00 +0000\r\n") {
			t.Errorf("Received not on top:\n%s", out)
		}
		for _, want := range []string{"From: <alice@example.com>\r\n", "Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n", "Message-Id: <" + id + ">\r\n", "Subject: hi\r\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("header lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("keeps present fields", func(t *testing.T) {
		h, _ := ReadHeader(bufio.NewReader(strings.NewReader("From: b@example.com\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@y>\r\n\r\n")))
		id, _ := Complete(&h, st, "alice@example.com")
		if id != "x@y" || h.Get("From") != "b@example.com" || len(h.Values("Date")) != 1 || len(h.Values("Message-Id")) != 1 {
			t.Fatalf("present fields changed: id=%q from=%q", id, h.Get("From"))
		}
	})
}

func TestWithoutBcc(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("From: a@example.com\r\nBcc: secret@example.com\r\nTo: b@example.com\r\n\r\nbody\r\n"))
	h, _ := ReadHeader(br)
	if !HasDropped(h) {
		t.Fatal("HasBcc = false")
	}
	c := WithoutDropped(h)
	if HasDropped(c) || !HasDropped(h) {
		t.Fatal("WithoutBcc changed the original or kept Bcc")
	}
	var b bytes.Buffer
	WriteHeader(&b, c)
	body, _ := io.ReadAll(br)
	if strings.Contains(b.String(), "secret") || string(body) != "body\r\n" {
		t.Fatalf("copy %q body %q", b.String(), body)
	}
}

// TestWithoutDropped: every field Postfix's message_drop_headers drops is
// removed from the recipients' copy; other fields stay.
func TestWithoutDropped(t *testing.T) {
	for _, f := range []string{"Bcc", "Resent-Bcc", "Return-Path", "Content-Length", "bcc", "RETURN-PATH"} {
		t.Run(f, func(t *testing.T) {
			h, err := ReadHeader(bufio.NewReader(strings.NewReader("From: a@example.com\r\n" + f + ": secret\r\nTo: b@example.com\r\n\r\n")))
			if err != nil {
				t.Fatal(err)
			}
			if !HasDropped(h) {
				t.Fatalf("HasDropped = false with %s:", f)
			}
			for name, c := range map[string]textproto.Header{"WithoutDropped": WithoutDropped(h)} {
				var b bytes.Buffer
				if err := WriteHeader(&b, c); err != nil {
					t.Fatal(err)
				}
				if HasDropped(c) || strings.Contains(b.String(), "secret") || !strings.Contains(b.String(), "To: b@example.com") {
					t.Errorf("%s kept %s: or lost To::\n%s", name, f, b.String())
				}
			}
			if !h.Has(f) {
				t.Errorf("the original header lost %s:", f)
			}
		})
	}
	h, _ := ReadHeader(bufio.NewReader(strings.NewReader("From: a@example.com\r\nResent-To: c@example.com\r\n\r\n")))
	if HasDropped(h) {
		t.Error("HasDropped = true without a dropped field")
	}
}

func TestAddressList(t *testing.T) {
	for _, tc := range []struct {
		name, hdr string
		want      []Address
		bad       bool
	}{
		{"duplicate From fields", "From: a@example.com\r\nFrom: b@example.com\r\n\r\n", nil, true},
		{"folded", "From: Alice\r\n <a@example.com>\r\n\r\n", []Address{{"Alice", "a@example.com", "a@example.com"}}, false},
		{"fold hides a second address", "From: a@example.com\r\n b@example.com\r\n\r\n", nil, true},
		{"encoded-word name spelling an address", "From: =?utf-8?q?support=40example.com?= <app@example.com>\r\n\r\n", []Address{{"support@example.com", "app@example.com", "app@example.com"}}, false},
		{"raw @ in an encoded word", "From: =?utf-8?q?support@example.com?= <app@example.com>\r\n\r\n", nil, true},
		{"group syntax", "From: undisclosed:;\r\n\r\n", nil, true},
		{"empty", "From: \r\n\r\n", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ReadHeader(bufio.NewReader(strings.NewReader(tc.hdr)))
			if err != nil {
				t.Fatal(err)
			}
			got, err := AddressList(h, "From")
			if tc.bad != (err != nil) || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("AddressList = %+v, %v; want %+v (bad=%v)", got, err, tc.want, tc.bad)
			}
			if tc.bad && !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v is not ErrMalformed", err)
			}
		})
	}
}

func TestSetAddressList(t *testing.T) {
	var h textproto.Header
	h.Set("From", "x")
	SetAddressList(&h, "From", []Address{{Name: "Jörg Müller", Addr: "j@example.com"}, {Addr: "b@example.com"}})
	got := h.Get("From")
	if got != "=?utf-8?q?J=C3=B6rg_M=C3=BCller?= <j@example.com>, <b@example.com>" {
		t.Fatalf("From = %q", got)
	}
	list, err := AddressList(h, "From")
	if err != nil || list[0].Name != "Jörg Müller" {
		t.Fatalf("round trip: %+v, %v", list, err)
	}
}

// BenchmarkRewriteHeader is the acceptance's header work: parse, read the
// sender addresses, add Message-ID, Date and Received, write it out.
func BenchmarkRewriteHeader(b *testing.B) {
	raw := "From: Alice <alice@example.com>\r\nTo: bob@example.com, carol@example.com\r\nSubject: quarterly report\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
	st := Stamp{Hostname: "mx.example.test", Helo: "client", RemoteIP: "127.0.0.1", TLS: "TLS1.3", QueueID: "Q1", Now: time.Now()}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h, err := ReadHeader(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := AddressList(h, "From"); err != nil {
			b.Fatal(err)
		}
		if _, err := Complete(&h, st, "alice@example.com"); err != nil {
			b.Fatal(err)
		}
		if err := WriteHeader(io.Discard, h); err != nil {
			b.Fatal(err)
		}
	}
}
