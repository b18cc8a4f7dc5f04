package limits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"mailroom/internal/store"
)

// Shared enforces the per-mailbox limits together with every other node on
// the same store: each transaction in flight is a lease row (store.Leases)
// that this node renews while it lasts and deletes when it ends; the
// message rate and the 24-hour budget count the shared submission log plus
// the leases' reservations. A node that dies stops renewing, so its slots
// return within TTL. The replies are those of Tracker.
type Shared struct {
	st   store.Leases
	node string
	ttl  time.Duration
	log  *slog.Logger

	mu       sync.Mutex
	inflight map[int64]int      // this node's leases per mailbox
	leases   map[int64]struct{} // ids of this node's leases, renewed by Run
}

// NewShared returns a Shared for node (a name unique to this process) with
// leases that last ttl without renewal; Run renews them.
func NewShared(st store.Leases, node string, ttl time.Duration, log *slog.Logger) *Shared {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Shared{st: st, node: node, ttl: ttl, log: log, inflight: make(map[int64]int), leases: make(map[int64]struct{})}
}

// Run renews this node's leases every third of the TTL until ctx ends, so
// one failed renewal does not lose them.
func (s *Shared) Run(ctx context.Context) {
	t := time.NewTicker(s.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		ids := make([]int64, 0, len(s.leases))
		for id := range s.leases {
			ids = append(ids, id)
		}
		s.mu.Unlock()
		rctx, cancel := context.WithTimeout(ctx, s.ttl/3)
		_, err := s.st.RenewLeases(rctx, ids, s.ttl)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.log.Warn("renew limit leases", "node", s.node, "err", err)
		}
	}
}

// Acquire takes a concurrency slot and a message-rate reservation of the
// mailbox, or returns a *Refusal saying which limit refuses, or another
// error when the store could not decide.
func (s *Shared) Acquire(ctx context.Context, mailboxID int64, lim store.Limits, now time.Time) (Hold, error) {
	res, err := s.st.AcquireLease(ctx, store.LeaseRequest{MailboxID: mailboxID, Node: s.node,
		Concurrent: lim.Concurrent, MessagesPerMinute: lim.MessagesPerMinute, Now: now, TTL: s.ttl})
	if err != nil {
		return nil, err
	}
	switch res.Outcome {
	case store.LeaseGranted:
	case store.LeaseConcurrent:
		return nil, &Refusal{Kind: KindConcurrent, Limit: lim.Concurrent}
	case store.LeaseRate:
		// As Tracker: when the oldest message of the minute leaves it, or
		// in a second when only reservations fill the window.
		retry := res.Oldest.Add(minute)
		if res.Oldest.IsZero() || retry.Before(now) {
			retry = now.Add(time.Second)
		}
		return nil, &Refusal{Kind: KindRate, Limit: lim.MessagesPerMinute, RetryAt: retry}
	default:
		return nil, fmt.Errorf("acquire lease: unexpected outcome %d", res.Outcome)
	}
	s.mu.Lock()
	s.inflight[mailboxID]++
	s.leases[res.ID] = struct{}{}
	s.mu.Unlock()
	return &SharedTx{s: s, id: res.ID, mailbox: mailboxID, lim: lim}, nil
}

// InFlight returns this node's transactions in flight per mailbox id (only
// those with some); other nodes' are in the store.
func (s *Shared) InFlight() map[int64]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int64]int, len(s.inflight))
	for id, n := range s.inflight {
		out[id] = n
	}
	return out
}

// SharedTx is one transaction's lease. It is not safe for concurrent use
// (one SMTP session owns it).
type SharedTx struct {
	s       *Shared
	id      int64
	mailbox int64
	lim     store.Limits
	rcpts   int
	closed  bool
}

// Reserve reserves one recipient against the per-message cap and the
// mailbox's rolling 24-hour budget, shared by every node.
func (tx *SharedTx) Reserve(ctx context.Context, now time.Time) error {
	if tx.rcpts >= tx.lim.RecipientsPerMessage {
		return &Refusal{Kind: KindPerMessage, Limit: tx.lim.RecipientsPerMessage}
	}
	res, err := tx.s.st.ReserveLeaseRecipient(ctx, tx.id, tx.lim.RecipientsPerDay, now)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("lease %d of mailbox %d expired (renewal failed for longer than lease_ttl): %w", tx.id, tx.mailbox, err)
	}
	if err != nil {
		return err
	}
	if res.Outcome == store.LeaseDaily {
		retry := now.Add(minute) // only in-flight reservations hold it
		if !res.Oldest.IsZero() {
			retry = res.Oldest.Add(day)
		}
		return &Refusal{Kind: KindPerDay, Limit: tx.lim.RecipientsPerDay, RetryAt: retry}
	}
	tx.rcpts++
	return nil
}

// Commit ends the transaction after its acceptance: the submission log
// (written by the acceptance) now counts its recipients, so the lease and
// its reservations go.
func (tx *SharedTx) Commit(time.Time) { tx.end() }

// Abort ends the transaction and releases its reservations.
func (tx *SharedTx) Abort() { tx.end() }

// Lease is the transaction's lease in the store.
func (tx *SharedTx) Lease() int64 { return tx.id }

// end deletes the lease. If that fails the lease still expires: Run no
// longer renews it.
func (tx *SharedTx) end() {
	if tx == nil || tx.closed {
		return
	}
	tx.closed = true
	s := tx.s
	s.mu.Lock()
	if s.inflight[tx.mailbox]--; s.inflight[tx.mailbox] <= 0 {
		delete(s.inflight, tx.mailbox)
	}
	delete(s.leases, tx.id)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.ttl)
	defer cancel()
	if err := s.st.ReleaseLease(ctx, tx.id); err != nil {
		s.log.Warn("release limit lease", "lease", tx.id, "mailbox", tx.mailbox, "err", err)
	}
}
