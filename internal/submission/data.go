package submission

import (
	"bytes"
	"errors"
	"io"
	"net"
	"time"

	"github.com/emersion/go-smtp"
)

// What mailroom accepts inside DATA and BDAT, and why.
//
// SMTP smuggling (SEC Consult, December 2023) hides a second message in the
// first: the sender ends DATA with a sequence that one server takes for the
// end of data (<LF>.<LF>, <CR>.<LF>, <LF>.<CR><LF>, ...) and the next does
// not, so the remainder (MAIL, RCPT, DATA, a forged From:) becomes a second
// transaction downstream. go-smtp ends DATA only on <CR><LF>.<CR><LF>, so
// here one DATA is always one message; but a message carrying those bytes
// would carry the attack to whoever mailroom relays to. RFC 5321 §2.3.8 says
// a line ends with CR LF and nothing else, so mailroom refuses any message
// with a CR or LF that is not part of a CR LF pair (554 5.6.0
// BareLineEnding), through DATA and BDAT alike, and never stores or relays
// it. The client is told the line and the fix; nothing is written.
//
// The same reader refuses NUL bytes (RFC 5322 §3.5, RFC 6152 §3), turns a
// line over maxLineLength into a reply instead of a local error, and bounds a
// DATA transfer by Options.DataTimeout so a client that trickles one byte a
// minute cannot hold a concurrency slot for ever. After a read error the
// connection is closed with the reply: what the client sends next is the
// rest of its message, and must never be read as commands.

// maxLineLength bounds one line of a command or of DATA. go-smtp enforces it
// on the whole connection, DATA included, and a connection that crosses it is
// broken from then on. RFC 5322 allows 998 octets, but real clients send
// longer unwrapped HTML lines; 64 KiB accepts them and still bounds a
// command's memory.
const maxLineLength = 64 << 10

// errRefused stops acceptance once the guard has refused the content; the
// reply is the guard's refusal.
var errRefused = errors.New("message content refused")

// dataGuard reads the message for Session.Data and checks every byte on the
// way: bare CR, bare LF and NUL end the read with a refusal; transport
// errors (timeout, overlong line, lost connection) are remembered so the
// client gets the right reply.
type dataGuard struct {
	s       *Session
	r       io.Reader
	prev    byte // the last byte passed through
	line    int  // the line being read, from 1
	refusal *Reply
	readErr error // the first transport error
}

// guardData wraps go-smtp's message reader. A DATA transfer gets
// DataTimeout from now to its final dot; BDAT chunks (which go-smtp hands
// over through an io.Pipe) stay under their command's CommandTimeout.
func (s *Session) guardData(r io.Reader) *dataGuard {
	if _, bdat := r.(*io.PipeReader); !bdat {
		_ = s.c.Conn().SetReadDeadline(time.Now().Add(s.b.o.DataTimeout))
	}
	return &dataGuard{s: s, r: r, line: 1}
}

func (g *dataGuard) Read(p []byte) (int, error) {
	if g.refusal != nil {
		return 0, errRefused
	}
	n, err := g.r.Read(p)
	if g.refusal = g.scan(p[:n]); g.refusal != nil {
		return 0, errRefused
	}
	if err == io.EOF && g.prev == '\r' {
		// Only BDAT can end this way; DATA ends after a CR LF.
		g.refusal = replyBareLineEnding("CR", g.line)
		return 0, errRefused
	}
	if err != nil && err != io.EOF && g.readErr == nil {
		g.readErr = err
	}
	return n, err
}

// scan checks b, the next bytes of the message, a line at a time (the
// searches are vectorised, which matters at 100 KiB a message): a CR must
// be followed by LF, an LF preceded by CR, and there is no NUL. It returns
// the refusal of the first offence.
func (g *dataGuard) scan(b []byte) *Reply {
	for len(b) > 0 {
		if g.prev == '\r' && b[0] != '\n' {
			return replyBareLineEnding("CR", g.line)
		}
		lf := bytes.IndexByte(b, '\n')
		seg := b // the line up to its LF, or the rest of b
		if lf >= 0 {
			seg = b[:lf]
		}
		nul := bytes.IndexByte(seg, 0)
		cr := bytes.IndexByte(seg, '\r')
		if cr == len(seg)-1 {
			cr = -1 // the CR of a CR LF (or of one split across reads)
		}
		switch {
		case nul >= 0 && (cr < 0 || nul < cr):
			return replyNULByte(g.line)
		case cr >= 0:
			return replyBareLineEnding("CR", g.line)
		}
		if lf < 0 {
			g.prev = seg[len(seg)-1]
			return nil
		}
		prev := g.prev
		if lf > 0 {
			prev = b[lf-1]
		}
		if prev != '\r' {
			return replyBareLineEnding("LF", g.line)
		}
		g.line++
		g.prev = '\n'
		b = b[lf+1:]
	}
	return nil
}

// abandoned reports whether the transfer ended because the client reset
// the transaction or went away between BDAT chunks.
func (g *dataGuard) abandoned() bool { return errors.Is(g.readErr, smtp.ErrDataReset) }

// outcome returns the reply for err, the result of accepting the message
// read through g: the guard's refusal, a transport error's reply, or err
// itself (a decision of acceptance, or a local failure).
func (g *dataGuard) outcome(err error) error {
	switch {
	case err == nil:
		return nil
	case g.refusal != nil:
		return g.refusal
	case g.readErr == nil, errors.Is(g.readErr, smtp.ErrDataTooLarge):
		return err
	case errors.Is(g.readErr, smtp.ErrDataReset):
		// RSET, or a disconnect, between BDAT chunks: go-smtp answers the
		// RSET itself and the connection carries on.
		return replyDataAborted()
	case errors.Is(g.readErr, smtp.ErrTooLongLine):
		// go-smtp cannot read past an overlong line: close after the reply.
		g.s.tc.closeAfterWrite.Store(true)
		return replyLineTooLong(g.line, maxLineLength)
	}
	g.s.tc.closeAfterWrite.Store(true)
	var ne net.Error
	if errors.As(g.readErr, &ne) && ne.Timeout() {
		return replyDataTimeout(g.s.b.o.DataTimeout)
	}
	return replyDataAborted()
}
