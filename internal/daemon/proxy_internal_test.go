package daemon

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
)

func TestProxySignature(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want sigState
	}{
		{"", sigMaybe},
		{"P", sigMaybe},
		{"PROX", sigMaybe},
		{"PROXY", sigFound},
		{"PROXY TCP4 203.0.113.7", sigFound},
		{"\r\n", sigMaybe},
		{"\r\n\r\n\x00\r\nQUI", sigMaybe},
		{"\r\n\r\n\x00\r\nQUIT\n", sigFound},
		{"\r\n\r\n\x00\r\nQUIT\n\x21", sigFound},
		{"EHLO client.example.test\r\n", sigNone},
		{"PRONTO", sigNone},
		{"\r\nEHLO", sigNone},
		{"\x16\x03\x01", sigNone}, // a TLS ClientHello on port 465
	} {
		if got := proxySignature([]byte(tc.in)); got != tc.want {
			t.Errorf("proxySignature(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// TestDirectConn: what a peer outside proxy_from sends passes through
// octet for octet, however it is split; a header is refused even when it
// arrives in pieces.
func TestDirectConn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		refuse bool
	}{
		{"command", []string{"EHLO client.example.test\r\n"}, false},
		{"blank line first", []string{"\r\n", "EHLO x\r\n"}, false},
		{"octet by octet", []string{"E", "H", "LO x\r\n"}, false},
		{"v1 in pieces", []string{"PR", "OX", "Y TCP4 203.0.113.7 192.0.2.1 1 2\r\n"}, true},
		{"v2 in pieces", []string{"\r\n\r\n", "\x00\r\nQUIT\n\x21\x11"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			server, client := net.Pipe()
			defer server.Close()
			go func() {
				defer client.Close()
				for _, w := range tc.writes {
					if _, err := client.Write([]byte(w)); err != nil {
						return
					}
				}
			}()
			c := &directConn{Conn: server, o: &proxyOptions{Key: "submission.proxy_from", Log: slog.New(slog.DiscardHandler)}}
			got, err := io.ReadAll(c)
			if tc.refuse {
				if !errors.Is(err, errUntrustedHeader) || len(got) != 0 {
					t.Fatalf("read %q, %v; want nothing and errUntrustedHeader", got, err)
				}
				return
			}
			want := ""
			for _, w := range tc.writes {
				want += w
			}
			if err != nil || string(got) != want {
				t.Fatalf("read %q, %v; want %q", got, err, want)
			}
		})
	}
}
