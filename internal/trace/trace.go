// Package trace owns the message trace's writing: the event kinds and
// statuses (stable contracts, like reply codes) and a Writer that batches
// events into the store. Searching is admin's (admin.TraceAttempts), over store.Trace.
//
// Durability. Events are buffered and written by one goroutine every
// FlushInterval or BatchSize events, in one transaction, so tracing adds
// no fsync to a submission: the acceptance's own commit stays the only one
// before the 250 reply. The acceptance event is recorded just after that
// commit, through the same buffer. A crash can therefore lose the last
// FlushInterval of events (refusals, and the trace of a just-accepted
// message), never an accepted message: the message and its queue rows are
// durable before the 250, independently of its trace. Close flushes.
package trace

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"mailroom/internal/store"
)

// Event kinds.
const (
	KindSession  = "session"  // a client connection (again after STARTTLS): remote address, TLS
	KindAuth     = "auth"     // an AUTH attempt: the mailbox, or the failure reason and reply
	KindRefused  = "refused"  // a refused command (MAIL, RCPT, DATA) with the reply sent
	KindAccepted = "accepted" // the 250 after DATA: queue id, Message-ID, size, envelope
	KindCopy     = "copy"     // a Sent Items copy saved for a mailbox
	KindDelivery = "delivery" // one delivery attempt for one recipient, with the reply
	KindDropped  = "dropped"  // recipients dropped by an administrator
	KindTLS      = "tls"      // a failed TLS handshake: what the client offered, why it failed, the fix
	KindEnded    = "ended"    // a session that ended after EHLO with no AUTH or MAIL: what the client was offered
	KindAppend   = "append"   // an IMAP APPEND: the folder, the Message-ID, stored or deduplicated, or the refusal
)

// Statuses, what searches filter on.
const (
	StatusAccepted  = "accepted"
	StatusRefused   = "refused"
	StatusDeferred  = "deferred"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
	// StatusTLSFailed marks a TLS handshake (implicit, or after STARTTLS)
	// that did not complete.
	StatusTLSFailed = "tls_failed"
	// StatusNoCommand marks a session that ended after EHLO without AUTH
	// or MAIL: a client that gave up on what EHLO offered it.
	StatusNoCommand = "no_command"
)

// Defaults of a Writer.
const (
	FlushInterval = 100 * time.Millisecond
	BatchSize     = 256
	bufferSize    = 8192
)

// Writer batches trace events into the store. A nil *Writer records
// nothing, so components run without tracing in tests.
type Writer struct {
	st  store.Trace
	log *slog.Logger
	now func() time.Time

	ch      chan store.TraceEvent
	flushCh chan chan struct{}
	done    chan struct{}
	mu      sync.RWMutex // Record holds it shared; Close exclusively to close ch
	closed  bool
	dropped atomic.Int64
}

// NewWriter starts a Writer on st; Close stops it.
func NewWriter(st store.Trace, log *slog.Logger) *Writer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Writer{st: st, log: log, now: time.Now, ch: make(chan store.TraceEvent, bufferSize),
		flushCh: make(chan chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// Record queues one event; At is set when zero. It never blocks: when the
// buffer is full (the store is stalled) the event is dropped and counted,
// because a submission must not wait for its trace.
func (w *Writer) Record(e store.TraceEvent) {
	if w == nil {
		return
	}
	if e.At.IsZero() {
		e.At = w.now()
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return
	}
	select {
	case w.ch <- e:
	default:
		if w.dropped.Add(1)%1000 == 1 {
			w.log.Warn("trace buffer full; events dropped", "dropped", w.dropped.Load())
		}
	}
}

// Flush writes every event recorded so far and returns when they are
// stored (tests, and the CLI's view of a running server, use it).
func (w *Writer) Flush() {
	if w == nil {
		return
	}
	c := make(chan struct{})
	select {
	case w.flushCh <- c:
		<-c
	case <-w.done:
	}
}

// Close writes what is buffered and stops the Writer. Record after Close
// drops events.
func (w *Writer) Close() {
	if w == nil {
		return
	}
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *Writer) run() {
	defer close(w.done)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	var batch []store.TraceEvent
	write := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := w.st.AppendTrace(ctx, batch); err != nil {
			w.log.Error("write trace events", "events", len(batch), "err", err)
		}
		cancel()
		batch = batch[:0]
	}
	for {
		select {
		case e, ok := <-w.ch:
			if !ok {
				write()
				return
			}
			batch = append(batch, e)
			if len(batch) >= BatchSize {
				write()
			}
		case <-t.C:
			write()
		case c := <-w.flushCh:
			for drained := false; !drained; {
				select {
				case e, ok := <-w.ch:
					if !ok {
						drained = true
						break
					}
					batch = append(batch, e)
				default:
					drained = true
				}
			}
			write()
			close(c)
		}
	}
}

// Clip cuts s to at most n octets, at a rune boundary, marking the cut
// with "…" (which counts): how a client-supplied string (a user name, an
// address as typed, a header field) is bounded before it reaches the
// trace or the log.
func Clip(s string, n int) string {
	const mark = "…"
	if len(s) <= n {
		return s
	}
	i := max(n-len(mark), 0)
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + mark
}
