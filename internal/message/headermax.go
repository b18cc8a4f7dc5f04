package message

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/emersion/go-message/textproto"
)

// DefaultMaxHeaderBytes bounds a header section where no other bound is
// configured ([submission] max_header_bytes names the one acceptance uses).
const DefaultMaxHeaderBytes = 256 << 10

// ErrHeaderTooLarge is wrapped by ReadHeaderMax's error when the header
// section is longer than its bound.
var ErrHeaderTooLarge = errors.New("message header too large")

// ReadHeaderMax reads the header section from r as ReadHeader does,
// leaving r at the body, but reads no more than max bytes of it (the blank
// line that ends it included): past that it stops with an error wrapping
// ErrHeaderTooLarge, so a header of folded lines cannot grow to the size of
// the whole message in memory. Other read errors stay visible through %w.
func ReadHeaderMax(r *bufio.Reader, max int) (textproto.Header, error) {
	lr := &lineReader{r: r, left: max}
	// The parser gets its own small buffer over lr; lr hands it one line
	// per read, so it never reads past the blank line and r is left at
	// the body.
	h, err := textproto.ReadHeader(bufio.NewReaderSize(lr, 4096))
	if lr.over {
		return textproto.Header{}, fmt.Errorf("%w: more than %d bytes", ErrHeaderTooLarge, max)
	}
	if err != nil {
		return h, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return h, nil
}

// lineReader reads from r at most one line per Read and at most left
// bytes in all.
type lineReader struct {
	r    *bufio.Reader
	rest []byte // the part of the last line not returned yet (in r's buffer)
	left int
	over bool
}

func (l *lineReader) Read(p []byte) (int, error) {
	if len(l.rest) == 0 {
		if l.left <= 0 {
			// The parser asks for more than max bytes, unless the input
			// ends right here (a header with no blank line and no body).
			if _, err := l.r.Peek(1); err != nil {
				return 0, err
			}
			l.over = true
			return 0, ErrHeaderTooLarge
		}
		line, err := l.r.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) && len(line) == 0 {
			return 0, err
		}
		if len(line) > l.left {
			l.over = true
			return 0, ErrHeaderTooLarge
		}
		l.left -= len(line)
		l.rest = line
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			n := copy(p, l.rest)
			l.rest = l.rest[n:]
			if len(l.rest) == 0 {
				return n, err
			}
			return n, nil
		}
	}
	n := copy(p, l.rest)
	l.rest = l.rest[n:]
	return n, nil
}

var _ io.Reader = (*lineReader)(nil)
