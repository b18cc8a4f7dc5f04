package message

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

// foldedHeader streams a header of one field folded over n continuation
// lines (each "\t" + 62 letters), then the blank line and "body": the
// attack of issue 14, without holding the input in memory.
type foldedHeader struct {
	n    int
	head []byte
}

func (f *foldedHeader) Read(p []byte) (int, error) {
	if len(f.head) == 0 {
		switch {
		case f.n > 0:
			f.n--
			f.head = []byte("\t" + strings.Repeat("x", 62) + "\r\n")
		case f.n == 0:
			f.n--
			f.head = []byte("\r\nbody")
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, f.head)
	f.head = f.head[n:]
	return n, nil
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadHeaderMaxBoundsMemory: a 30 MiB header of folded lines costs
// ReadHeader more than the header's size, and ReadHeaderMax with a 256 KiB
// bound a small multiple of the bound, whatever the header's size.
func TestReadHeaderMaxBoundsMemory(t *testing.T) {
	const lines = 30 << 20 / 64 // 30 MiB
	var err error
	unbounded := allocated(func() {
		_, err = ReadHeader(bufio.NewReader(&foldedHeader{n: lines, head: []byte("X-Big: start\r\n")}))
	})
	if err != nil {
		t.Fatalf("ReadHeader: %v", err)
	}
	bounded := allocated(func() {
		_, err = ReadHeaderMax(bufio.NewReader(&foldedHeader{n: lines, head: []byte("X-Big: start\r\n")}), DefaultMaxHeaderBytes)
	})
	if !errors.Is(err, ErrHeaderTooLarge) {
		t.Fatalf("ReadHeaderMax of a 30 MiB header: %v, want ErrHeaderTooLarge", err)
	}
	t.Logf("a 30 MiB header allocates %d MiB unbounded, %d KiB with a %d KiB bound", unbounded>>20, bounded>>10, DefaultMaxHeaderBytes>>10)
	if bounded > 16*DefaultMaxHeaderBytes {
		t.Errorf("ReadHeaderMax allocated %d bytes, want at most %d (16 × the bound)", bounded, 16*DefaultMaxHeaderBytes)
	}
}

// TestReadHeaderMax: within the bound it reads what ReadHeader reads and
// leaves the reader at the body; one byte over is ErrHeaderTooLarge.
func TestReadHeaderMax(t *testing.T) {
	const hdr = "From: a@example.com\r\nSubject: folded\r\n over two lines\r\n\r\n"
	for _, tc := range []struct {
		name, in string
		max      int
		tooLarge bool
	}{
		{"exactly the bound", hdr + "body\r\n", len(hdr), false},
		{"one byte over", hdr + "body\r\n", len(hdr) - 1, true},
		{"no body, no blank line", "From: a@example.com\r\n", 21, false},
		{"long line within", "X: " + strings.Repeat("y", 10000) + "\r\n\r\nbody", 20000, false},
		{"long line over", "X: " + strings.Repeat("y", 10000) + "\r\n\r\nbody", 5000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.in), 16) // lines longer than its buffer
			h, err := ReadHeaderMax(br, tc.max)
			if tc.tooLarge {
				if !errors.Is(err, ErrHeaderTooLarge) || errors.Is(err, ErrMalformed) {
					t.Fatalf("err %v, want ErrHeaderTooLarge (not ErrMalformed)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, rest := readAll(t, tc.in)
			got, _ := io.ReadAll(br)
			if !reflect.DeepEqual(fields(h), fields(want)) || string(got) != rest {
				t.Fatalf("fields %v rest %q, want %v rest %q", fields(h), got, fields(want), rest)
			}
		})
	}
	if _, err := ReadHeaderMax(bufio.NewReader(strings.NewReader(" bad\r\n\r\n")), 100); !errors.Is(err, ErrMalformed) {
		t.Errorf("malformed header: %v, want ErrMalformed", err)
	}
}

// readAll reads in with ReadHeader and returns the header and the rest.
func readAll(tb testing.TB, in string) (textproto.Header, string) {
	tb.Helper()
	br := bufio.NewReader(strings.NewReader(in))
	h, err := ReadHeader(br)
	if err != nil {
		tb.Fatal(err)
	}
	b, _ := io.ReadAll(br)
	return h, string(b)
}

// fields lists a header's fields as "Key: value".
func fields(h textproto.Header) []string {
	var out []string
	for f := h.Fields(); f.Next(); {
		out = append(out, f.Key()+": "+f.Value())
	}
	return out
}

// FuzzReadHeaderMax: whatever the input and bound, ReadHeaderMax agrees
// with ReadHeader: too large exactly when ReadHeader's header is longer
// than the bound, else the same fields and the same body left to read.
// Seeds: testdata/fuzz/FuzzReadHeaderMax.
func FuzzReadHeaderMax(f *testing.F) {
	f.Add([]byte("From: a@example.com\r\nSubject: x\r\n y\r\n\r\nbody"), 40)
	f.Add([]byte("From: a@example.com\r\n\r\n"), 23)
	f.Add([]byte("From: a@example.com\r\n\r\n"), 22)
	f.Add([]byte("A: b\nC: d\n\nbody\n"), 6)
	f.Add([]byte("A: b"), 4)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		br := bufio.NewReader(bytes.NewReader(in))
		want, wantErr := ReadHeader(br)
		wantRest, _ := io.ReadAll(br)
		headerLen := len(in) - len(wantRest)

		br = bufio.NewReaderSize(bytes.NewReader(in), 16)
		got, err := ReadHeaderMax(br, max)
		switch {
		case errors.Is(err, ErrHeaderTooLarge):
			if wantErr == nil && headerLen <= max {
				t.Fatalf("too large with a bound of %d, but the header is %d bytes", max, headerLen)
			}
		case wantErr != nil:
			if err == nil {
				t.Fatalf("ReadHeader: %v; ReadHeaderMax: no error", wantErr)
			}
		case err != nil:
			t.Fatalf("ReadHeaderMax: %v; ReadHeader: no error", err)
		default:
			if headerLen > max {
				t.Fatalf("a %d-byte header read with a bound of %d", headerLen, max)
			}
			rest, _ := io.ReadAll(br)
			if !reflect.DeepEqual(fields(got), fields(want)) || !bytes.Equal(rest, wantRest) {
				t.Fatalf("fields %q rest %q, want %q rest %q", fields(got), rest, fields(want), wantRest)
			}
		}
	})
}
