package limits

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"mailroom/internal/store"
)

// acquirer is what Waiting wraps: Tracker or Shared.
type acquirer interface {
	Acquire(ctx context.Context, mailboxID int64, lim store.Limits, now time.Time) (Hold, error)
}

// DefaultWaitPoll is how often a waiting MAIL tries again when no release
// in this process wakes it: another node's release (Shared), or a lease
// that expired.
const DefaultWaitPoll = 250 * time.Millisecond

// Waiting lets MAIL wait up to Wait for a free concurrency slot of the
// mailbox instead of being refused at once ([limits] concurrency_wait):
// for clients such as nodemailer's pool and msmtp, which give up at the
// first 432 4.3.2 instead of retrying. A transaction that ends in this
// process wakes the waiters of its mailbox at once; otherwise they try
// again every Poll. Only the concurrency limit waits: a rate or budget
// refusal is answered at once, as it would be after any wait.
type Waiting struct {
	Limiter acquirer
	Wait    time.Duration
	Poll    time.Duration // default DefaultWaitPoll
	Log     *slog.Logger  // nil: no log

	mu   sync.Mutex
	wake map[int64]chan struct{} // closed at a release of the mailbox's slot
}

// NewWaiting wraps l so that Acquire waits up to wait for a slot.
func NewWaiting(l acquirer, wait time.Duration, log *slog.Logger) *Waiting {
	return &Waiting{Limiter: l, Wait: wait, Poll: DefaultWaitPoll, Log: log, wake: make(map[int64]chan struct{})}
}

// Acquire is the wrapped Limiter's Acquire, trying again while the
// mailbox's concurrency slots are all taken, until Wait has passed or ctx
// ends; then the last refusal is returned. now is advanced by the time
// waited.
func (w *Waiting) Acquire(ctx context.Context, mailboxID int64, lim store.Limits, now time.Time) (Hold, error) {
	start := time.Now()
	var deadline <-chan time.Time
	for {
		wake := w.waker(mailboxID) // before trying, so a release in between is not missed
		h, err := w.Limiter.Acquire(ctx, mailboxID, lim, now.Add(time.Since(start)))
		if err == nil {
			return &wakingHold{Hold: h, w: w, mailboxID: mailboxID}, nil
		}
		var ref *Refusal
		if w.Wait <= 0 || !errors.As(err, &ref) || ref.Kind != KindConcurrent {
			return nil, err
		}
		if deadline == nil {
			t := time.NewTimer(w.Wait)
			defer t.Stop()
			deadline = t.C
			if w.Log != nil {
				w.Log.Debug("waiting for a concurrency slot", "mailbox_id", mailboxID, "limit", ref.Limit, "wait", w.Wait)
			}
		}
		poll := time.NewTimer(w.Poll)
		select {
		case <-wake:
		case <-poll.C:
		case <-deadline:
			poll.Stop()
			return nil, err
		case <-ctx.Done():
			poll.Stop()
			return nil, err
		}
		poll.Stop()
	}
}

// waker is the channel closed at the mailbox's next release.
func (w *Waiting) waker(mailboxID int64) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.wake[mailboxID]
	if !ok {
		c = make(chan struct{})
		w.wake[mailboxID] = c
	}
	return c
}

// released wakes the mailbox's waiters.
func (w *Waiting) released(mailboxID int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.wake[mailboxID]; ok {
		close(c)
		delete(w.wake, mailboxID)
	}
}

// wakingHold wakes the mailbox's waiters when the transaction ends.
type wakingHold struct {
	Hold
	w         *Waiting
	mailboxID int64
}

func (h *wakingHold) Commit(now time.Time) {
	h.Hold.Commit(now)
	h.w.released(h.mailboxID)
}

func (h *wakingHold) Abort() {
	h.Hold.Abort()
	h.w.released(h.mailboxID)
}
