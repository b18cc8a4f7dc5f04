package submission

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
	"testing"

	"mailroom/internal/message"
)

// TestReadTraceHeader: what the trace keeps of a header is bounded and
// reads as one line: From and Sender normalized (as typed, clipped, when
// they do not parse), the Subject decoded (RFC 2047) and unfolded, every
// value at most maxTraced octets and at most maxTracedFrom From addresses.
func TestReadTraceHeader(t *testing.T) {
	many := make([]string, maxTracedFrom+3)
	for i := range many {
		many[i] = fmt.Sprintf("u%d@example.test", i)
	}
	long := strings.Repeat("x", maxTraced+1) // one octet over
	for _, tc := range []struct {
		name, header string
		from         []string
		sender       string
		subject      string
	}{
		{"plain", "From: Alice <Alice@Example.TEST>\r\nSubject: Hello\r\n", []string{"alice@example.test"}, "", "Hello"},
		{"send on behalf", "From: shared@example.test\r\nSender: bob@example.test\r\nSubject: x\r\n", []string{"shared@example.test"}, "bob@example.test", "x"},
		{"encoded subject", "From: a@example.test\r\nSubject: =?utf-8?q?Caf=C3=A9?= =?utf-8?q?_hours?=\r\n", []string{"a@example.test"}, "", "Café hours"},
		{"folded subject", "From: a@example.test\r\nSubject: one\r\n two\r\n", []string{"a@example.test"}, "", "one two"},
		{"no subject", "From: a@example.test\r\n", []string{"a@example.test"}, "", ""},
		{"malformed from", "From: not an address\r\n", []string{"not an address"}, "", ""},
		{"long subject", "From: a@example.test\r\nSubject: " + long + "\r\n", []string{"a@example.test"}, "", long[:maxTraced-len("…")] + "…"},
		{"long malformed sender", "From: a@example.test\r\nSender: " + long + "\r\n", []string{"a@example.test"}, long[:maxTraced-len("…")] + "…", ""},
		{"many from", "From: " + strings.Join(many, ", ") + "\r\nSender: u0@example.test\r\n", many[:maxTracedFrom], "u0@example.test", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := message.ReadHeaderMax(bufio.NewReader(strings.NewReader(tc.header+"\r\nbody\r\n")), 64<<10)
			if err != nil {
				t.Fatal(err)
			}
			th := readTraceHeader(h)
			if !slices.Equal(th.from, tc.from) || th.sender != tc.sender || th.subject != tc.subject {
				t.Errorf("got from %q sender %q subject %q\nwant from %q sender %q subject %q", th.from, th.sender, th.subject, tc.from, tc.sender, tc.subject)
			}
			for _, v := range append(th.from, th.sender, th.subject) {
				if len(v) > maxTraced {
					t.Errorf("%d octets kept, over %d", len(v), maxTraced)
				}
			}
		})
	}
}
