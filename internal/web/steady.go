package web

import (
	"net/http"
	"time"
)

// writeStall is how long one part of a streamed response may wait for the
// client to read before the connection is cut.
const writeStall = time.Minute

// steadyChunk is the most written under one write deadline.
const steadyChunk = 64 << 10

// steadyWriter writes a large response (a raw message, a message's HTML)
// for as long as the client keeps reading: before each part of at most
// steadyChunk bytes it moves the connection's write deadline to writeStall
// from now, so the server's WriteTimeout, meant for ordinary answers,
// bounds a stall and not the whole download.
type steadyWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func newSteadyWriter(w http.ResponseWriter) steadyWriter {
	return steadyWriter{w: w, rc: http.NewResponseController(w)}
}

// Write writes p in parts, each under a fresh deadline. A connection that
// takes no deadline keeps the server's.
func (s steadyWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		part := p[:min(len(p), steadyChunk)]
		_ = s.rc.SetWriteDeadline(time.Now().Add(writeStall))
		m, err := s.w.Write(part)
		n += m
		if err != nil {
			return n, err
		}
		p = p[len(part):]
	}
	return n, nil
}
