package submission

import (
	"mime"
	"strings"

	"github.com/emersion/go-message/textproto"

	"mailroom/internal/message"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// traceHeader is what the trace records of a message's header, so that an
// attempt can be found and read by it: the From: and Sender: addresses and
// the Subject:, each bounded like every client string (clip, maxTraced).
type traceHeader struct {
	from    []string // normalized; as typed (clipped) when the field does not parse
	sender  string
	subject string
}

// maxTracedFrom bounds how many From: addresses the trace keeps.
const maxTracedFrom = 8

// readTraceHeader reads h's From:, Sender: and Subject: for the trace.
func readTraceHeader(h textproto.Header) traceHeader {
	var th traceHeader
	if from, err := message.AddressList(h, "From"); err == nil {
		for _, a := range from[:min(len(from), maxTracedFrom)] {
			th.from = append(th.from, trace.Clip(a.Norm, maxTraced))
		}
	} else if v := h.Get("From"); v != "" {
		th.from = []string{trace.Clip(oneLine(v), maxTraced)}
	}
	th.sender = traceSender(h)
	subject := h.Get("Subject")
	if d, err := new(mime.WordDecoder).DecodeHeader(subject); err == nil {
		subject = d
	}
	th.subject = trace.Clip(oneLine(subject), maxTraced)
	return th
}

// traceSender is h's Sender: address for the trace: normalized, or as
// typed (clipped) when it does not parse.
func traceSender(h textproto.Header) string {
	ss, err := message.AddressList(h, "Sender")
	switch {
	case err != nil:
		return trace.Clip(oneLine(h.Get("Sender")), maxTraced)
	case len(ss) > 0:
		return trace.Clip(ss[0].Norm, maxTraced)
	}
	return ""
}

// fill sets e's header fields from th.
func (th traceHeader) fill(e *store.TraceEvent) {
	e.HeaderFrom = append([]string(nil), th.from...)
	e.HeaderSender, e.Subject = th.sender, th.subject
}

// oneLine turns folding and control characters into spaces, so a field
// reads as one line in the console and the CLI.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }), " ")
}
