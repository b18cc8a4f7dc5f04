package submission

import (
	"testing"
)

// refScan is the plain byte-at-a-time check that dataGuard.scan must
// agree with: the same refusal for the same input, however it is split.
func refScan(b []byte) *Reply {
	var prev byte
	line := 1
	for _, c := range b {
		switch {
		case prev == '\r' && c != '\n':
			return replyBareLineEnding("CR", line)
		case c == '\n' && prev != '\r':
			return replyBareLineEnding("LF", line)
		case c == 0:
			return replyNULByte(line)
		}
		if c == '\n' {
			line++
		}
		prev = c
	}
	return nil
}

// guardScan runs dataGuard.scan over b cut into pieces of size step.
func guardScan(b []byte, step int) (*Reply, *dataGuard) {
	g := &dataGuard{line: 1}
	for len(b) > 0 {
		n := min(step, len(b))
		if r := g.scan(b[:n]); r != nil {
			return r, g
		}
		b = b[n:]
	}
	return nil, g
}

func sameReply(a, b *Reply) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Code == b.Code && a.Enhanced == b.Enhanced && a.Text == b.Text
}

func FuzzDataScan(f *testing.F) {
	for _, s := range []string{
		"Subject: x\r\n\r\nbody\r\n",
		"a\rb\r\n", "a\nb", "a\r\n\x00\r\n", "x\r", "\r\r\n", "ok\r\nbad\n", "a\x00\rb",
		"line one\r\nline two\r\nthree\rfour\r\n",
	} {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, b []byte, step uint8) {
		want := refScan(b)
		got, g := guardScan(b, int(step)+1)
		if !sameReply(got, want) {
			t.Fatalf("%q split by %d: scan %v, byte loop %v", b, int(step)+1, got, want)
		}
		// A DATA body ends in CR LF; a trailing CR is caught at EOF.
		if want == nil && len(b) > 0 && (g.prev == '\r') != (b[len(b)-1] == '\r') {
			t.Fatalf("%q: prev %q after the scan", b, g.prev)
		}
	})
}
