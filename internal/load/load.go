// Package load owns `mailroom load`: a submission load generator that opens
// concurrent client sessions (STARTTLS, implicit TLS or plain; AUTH PLAIN or
// LOGIN), submits a number of messages, and reports throughput, latency
// percentiles and every refusal by phase, reply code and enhanced code. It
// talks to any submission server, not only mailroom; it is a client only
// and shares no code with the server.
//
// Every message of a run is a ticket: it ends accepted (the 250 after
// DATA), failed (a refusal or an error, in a named phase), or interrupted
// (the run was cancelled while it was in flight). OK + Failed + Interrupted
// is the number of tickets taken, so a report never loses a message.
package load

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TLSMode is how a session gets its TLS.
type TLSMode string

// The TLS modes.
const (
	StartTLS TLSMode = "starttls" // STARTTLS after EHLO (port 587)
	Implicit TLSMode = "implicit" // TLS from the first byte (port 465)
	NoTLS    TLSMode = "none"     // cleartext; servers that follow RFC 4954 refuse AUTH
)

// Mechanisms of AUTH.
const (
	AuthPlain = "plain"
	AuthLogin = "login"
)

// Options describe one run. Zero values take the documented defaults.
type Options struct {
	// Addr is the server's host:port. Default 127.0.0.1:587.
	Addr string
	// TLS is the TLS mode. Default StartTLS.
	TLS TLSMode
	// TLSConfig verifies the server; nil verifies against the system roots.
	// Its ServerName defaults to the host of Addr.
	TLSConfig *tls.Config
	// Username and Password log in with Auth ("plain", the default, or
	// "login"); an empty Username sends no AUTH.
	Username, Password, Auth string
	// From is the envelope sender and the From: header. Default Username.
	From string
	// To are the envelope recipients of every message (and its To:).
	To []string
	// Size is the body size in bytes, after a header of about 250 bytes.
	// Default 4096.
	Size int
	// Conns is how many sessions run at once. Default 1.
	Conns int
	// Messages is how many messages the run submits in all; 0 means no
	// count, only Duration ends the run.
	Messages int
	// PerConn is how many messages a session submits before QUIT and a new
	// session: 0 reuses it for the whole run, 1 pays connect, TLS and AUTH
	// for every message.
	PerConn int
	// Duration caps the run: no message starts after it. 0 means no cap
	// (then Messages must be set).
	Duration time.Duration
	// Timeout bounds every network operation (dial, handshake, each
	// command and its reply). Default 30s.
	Timeout time.Duration
	// EHLO is the name the client greets with. Default "mailroom-load".
	EHLO string
	// Now is the clock used for latencies. Default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() error {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:587"
	}
	if o.TLS == "" {
		o.TLS = StartTLS
	}
	if o.Auth == "" {
		o.Auth = AuthPlain
	}
	if o.From == "" {
		o.From = o.Username
	}
	if o.Size == 0 {
		o.Size = 4096
	}
	if o.Conns == 0 {
		o.Conns = 1
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.EHLO == "" {
		o.EHLO = "mailroom-load"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	host, _, err := net.SplitHostPort(o.Addr)
	switch {
	case err != nil:
		return fmt.Errorf("address %q: want host:port", o.Addr)
	case o.TLS != StartTLS && o.TLS != Implicit && o.TLS != NoTLS:
		return fmt.Errorf("tls mode %q: want starttls, implicit or none", o.TLS)
	case o.Auth != AuthPlain && o.Auth != AuthLogin:
		return fmt.Errorf("auth %q: want plain or login", o.Auth)
	case o.From == "":
		return errors.New("no sender: give a from address (or a username)")
	case len(o.To) == 0:
		return errors.New("no recipients")
	case o.Size < 0, o.Conns < 0, o.Messages < 0, o.PerConn < 0, o.Duration < 0, o.Timeout < 0:
		return errors.New("size, conns, messages, per-conn, duration and timeout must not be negative")
	case o.Messages == 0 && o.Duration == 0:
		return errors.New("give a number of messages, a duration, or both")
	}
	for _, a := range append([]string{o.From}, o.To...) {
		if strings.ContainsAny(a, "<>\r\n ") {
			return fmt.Errorf("address %q: give it bare, without <> or spaces", a)
		}
	}
	if o.TLSConfig == nil {
		o.TLSConfig = &tls.Config{}
	}
	if o.TLSConfig.ServerName == "" {
		o.TLSConfig = o.TLSConfig.Clone()
		o.TLSConfig.ServerName = host
	}
	return nil
}

// Runner is one run. Progress may be read while Run runs.
type Runner struct {
	o    Options
	body []byte

	tickets  atomic.Int64 // taken
	ok       atomic.Int64
	failed   atomic.Int64
	started  atomic.Int64 // unix nanoseconds of Run's start; 0 before
	deadline time.Time

	mu      sync.Mutex
	lat     []time.Duration
	setup   []time.Duration
	fails   map[FailureKey]*Failure
	interr  int
	elapsed time.Duration
	cpu0    time.Duration
}

// New checks o, fills in its defaults and returns a Runner.
func New(o Options) (*Runner, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	return &Runner{o: o, body: makeBody(o.Size), fails: make(map[FailureKey]*Failure)}, nil
}

// Options returns the options with their defaults filled in.
func (r *Runner) Options() Options { return r.o }

// Progress is a snapshot of a run.
type Progress struct {
	Done, OK, Failed int64
	Elapsed          time.Duration
}

// Progress returns how far the run is.
func (r *Runner) Progress() Progress {
	p := Progress{OK: r.ok.Load(), Failed: r.failed.Load()}
	p.Done = p.OK + p.Failed
	if s := r.started.Load(); s != 0 {
		p.Elapsed = r.o.Now().Sub(time.Unix(0, s))
	}
	return p
}

// Run submits the messages and returns the report. Cancelling ctx closes
// every session at once; messages in flight then count as interrupted.
// Run may be called once.
func (r *Runner) Run(ctx context.Context) *Report {
	r.cpu0 = cpuTime()
	start := r.o.Now()
	r.started.Store(start.UnixNano())
	if r.o.Duration > 0 {
		r.deadline = start.Add(r.o.Duration)
	}
	var wg sync.WaitGroup
	for i := range r.o.Conns {
		wg.Go(func() { r.worker(ctx, i) })
	}
	wg.Wait()
	r.elapsed = r.o.Now().Sub(start)
	return r.report()
}

// take claims the next message, or says the run is over.
func (r *Runner) take(ctx context.Context) bool {
	if ctx.Err() != nil || (!r.deadline.IsZero() && !r.o.Now().Before(r.deadline)) {
		return false
	}
	n := r.tickets.Add(1)
	if r.o.Messages > 0 && n > int64(r.o.Messages) {
		r.tickets.Add(-1)
		return false
	}
	return true
}

// worker runs one session after another until the tickets or the time run
// out.
func (r *Runner) worker(ctx context.Context, id int) {
	var s *session
	defer func() {
		if s != nil {
			s.quit()
		}
	}()
	var seq int
	for r.take(ctx) {
		seq++
		if s == nil {
			t0 := r.o.Now()
			var err error
			if s, err = dial(ctx, &r.o); err != nil {
				s = nil
				r.record(ctx, err)
				pause(ctx, 10*time.Millisecond) // a refused connect must not spin
				continue
			}
			r.addSetup(r.o.Now().Sub(t0))
		}
		t0 := r.o.Now()
		err := s.send(r.header(id, seq), r.body)
		s.used++
		if err == nil {
			r.addOK(r.o.Now().Sub(t0))
		} else {
			r.record(ctx, err)
			if !s.recover(err) {
				s.close()
				s = nil
				continue
			}
		}
		if r.o.PerConn > 0 && s.used >= r.o.PerConn {
			s.quit()
			s = nil
		}
	}
}

func (r *Runner) addOK(d time.Duration) {
	r.ok.Add(1)
	r.mu.Lock()
	r.lat = append(r.lat, d)
	r.mu.Unlock()
}

func (r *Runner) addSetup(d time.Duration) {
	r.mu.Lock()
	r.setup = append(r.setup, d)
	r.mu.Unlock()
}

// record files a message that did not get its 250.
func (r *Runner) record(ctx context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ctx.Err() != nil {
		r.interr++
		return
	}
	r.failed.Add(1)
	k, text := classify(err)
	f := r.fails[k]
	if f == nil {
		f = &Failure{FailureKey: k, Example: text}
		r.fails[k] = f
	}
	f.Count++
}

// header is the header of worker's seq-th message: a unique Message-ID,
// the envelope addresses in From: and To:.
func (r *Runner) header(worker, seq int) []byte {
	now := r.o.Now()
	return fmt.Appendf(nil, "From: <%s>\r\nTo: <%s>\r\nSubject: mailroom load %d.%d\r\nDate: %s\r\nMessage-ID: <%d.%d.%d@mailroom-load>\r\n\r\n",
		r.o.From, strings.Join(r.o.To, ">, <"), worker, seq, now.Format(time.RFC1123Z), now.UnixNano(), worker, seq)
}

// makeBody returns size bytes of printable text in 78-byte CRLF lines.
func makeBody(size int) []byte {
	const line = "The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnopqrstu\r\n"
	b := make([]byte, 0, size+len(line))
	for len(b) < size {
		b = append(b, line...)
	}
	b = b[:size]
	if size >= 2 {
		b[size-2], b[size-1] = '\r', '\n'
	}
	return b
}

func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
