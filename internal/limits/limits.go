// Package limits owns the per-mailbox throttles (transactions in flight,
// messages per sliding minute, recipients per message and per rolling 24
// hours) and the login protection. Counters live in memory, sharded so
// that different mailboxes never wait on one lock; the recipient budget is
// rebuilt from the store's submission log at start, so a restart never
// hands a mailbox a fresh day. Several nodes on one PostgreSQL share the
// same limits through Shared instead (leases in the store). Time is always
// passed in.
package limits

import (
	"context"
	"fmt"
	"hash/maphash"
	"sort"
	"sync"
	"time"

	"mailroom/internal/store"
)

// Effective merges the levels: each zero field of mailbox inherits the
// domain's, and then the server's.
func Effective(server, domain, mailbox store.Limits) store.Limits {
	pick := func(vals ...int) int {
		for _, v := range vals {
			if v > 0 {
				return v
			}
		}
		return 0
	}
	return store.Limits{
		Concurrent:           pick(mailbox.Concurrent, domain.Concurrent, server.Concurrent),
		MessagesPerMinute:    pick(mailbox.MessagesPerMinute, domain.MessagesPerMinute, server.MessagesPerMinute),
		RecipientsPerMessage: pick(mailbox.RecipientsPerMessage, domain.RecipientsPerMessage, server.RecipientsPerMessage),
		RecipientsPerDay:     pick(mailbox.RecipientsPerDay, domain.RecipientsPerDay, server.RecipientsPerDay),
	}
}

// Kind names which limit refused.
type Kind int

// The limits a transaction can hit.
const (
	KindConcurrent Kind = iota + 1
	KindRate
	KindPerMessage
	KindPerDay
)

// Refusal says which limit was hit, at what value, and when retrying can
// succeed (zero when it cannot be known, as for in-flight transactions).
type Refusal struct {
	Kind    Kind
	Limit   int
	RetryAt time.Time
}

func (r *Refusal) Error() string { return fmt.Sprintf("limit %d reached (kind %d)", r.Limit, r.Kind) }

const (
	minute = time.Minute
	day    = 24 * time.Hour
	shards = 64
)

// Tracker holds the counters of every mailbox.
type Tracker struct {
	seed   maphash.Seed
	shards [shards]shard
}

type shard struct {
	mu sync.Mutex
	m  map[int64]*state
}

// state is one mailbox's counters. Guarded by its shard's mutex.
type state struct {
	inflight     int
	reservedMsgs int     // transactions that hold a message-rate reservation
	reservedRcpt int     // recipients reserved by transactions in flight
	events       []event // accepted messages of the last 24h, oldest first
	dayRcpts     int     // sum of events[].rcpts
}

type event struct {
	at    time.Time
	rcpts int
}

// New returns an empty Tracker.
func New() *Tracker {
	t := &Tracker{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[int64]*state)
	}
	return t
}

// Load adds accepted messages from the store's submission log (oldest first).
func (t *Tracker) Load(recs []store.SubmissionRecord) {
	for _, r := range recs {
		sh, st := t.get(r.MailboxID)
		st.events = append(st.events, event{r.At, r.Recipients})
		st.dayRcpts += r.Recipients
		sh.mu.Unlock()
	}
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for _, st := range sh.m {
			sort.SliceStable(st.events, func(a, b int) bool { return st.events[a].at.Before(st.events[b].at) })
		}
		sh.mu.Unlock()
	}
}

// get returns the mailbox's state with its shard locked.
func (t *Tracker) get(id int64) (*shard, *state) {
	var h maphash.Hash
	h.SetSeed(t.seed)
	var b [8]byte
	for i := range b {
		b[i] = byte(id >> (8 * i))
	}
	h.Write(b[:])
	sh := &t.shards[h.Sum64()%shards]
	sh.mu.Lock()
	st := sh.m[id]
	if st == nil {
		st = &state{}
		sh.m[id] = st
	}
	return sh, st
}

// prune drops events older than 24h.
func (st *state) prune(now time.Time) {
	cut := now.Add(-day)
	i := 0
	for i < len(st.events) && !st.events[i].at.After(cut) {
		st.dayRcpts -= st.events[i].rcpts
		i++
	}
	if i > 0 {
		st.events = append(st.events[:0], st.events[i:]...)
	}
}

// lastMinute counts events of the sliding minute and returns the oldest
// one's time.
func (st *state) lastMinute(now time.Time) (int, time.Time) {
	cut := now.Add(-minute)
	i := sort.Search(len(st.events), func(i int) bool { return st.events[i].at.After(cut) })
	if i == len(st.events) {
		return 0, time.Time{}
	}
	return len(st.events) - i, st.events[i].at
}

// Tx is one mail transaction's hold on its mailbox's limits. It is not
// safe for concurrent use (one SMTP session owns it).
type Tx struct {
	t      *Tracker
	id     int64
	lim    store.Limits
	rcpts  int
	closed bool
}

// Begin takes a concurrency slot and a message-rate reservation for the
// mailbox, or says which limit refuses. The caller ends the Tx with
// Commit or Abort; both are idempotent, so a session may Abort on every
// reset without tracking whether it committed.
func (t *Tracker) Begin(mailboxID int64, lim store.Limits, now time.Time) (*Tx, *Refusal) {
	sh, st := t.get(mailboxID)
	defer sh.mu.Unlock()
	if st.inflight >= lim.Concurrent {
		return nil, &Refusal{Kind: KindConcurrent, Limit: lim.Concurrent}
	}
	st.prune(now)
	n, oldest := st.lastMinute(now)
	if n+st.reservedMsgs >= lim.MessagesPerMinute {
		retry := oldest.Add(minute)
		if n == 0 || retry.Before(now) {
			retry = now.Add(time.Second) // the window is full of reservations only
		}
		return nil, &Refusal{Kind: KindRate, Limit: lim.MessagesPerMinute, RetryAt: retry}
	}
	st.inflight++
	st.reservedMsgs++
	return &Tx{t: t, id: mailboxID, lim: lim}, nil
}

// AddRecipient reserves one recipient against the per-message cap and the
// rolling 24-hour budget.
func (tx *Tx) AddRecipient(now time.Time) *Refusal {
	if tx.rcpts >= tx.lim.RecipientsPerMessage {
		return &Refusal{Kind: KindPerMessage, Limit: tx.lim.RecipientsPerMessage}
	}
	sh, st := tx.t.get(tx.id)
	defer sh.mu.Unlock()
	st.prune(now)
	if st.dayRcpts+st.reservedRcpt >= tx.lim.RecipientsPerDay {
		// Budget returns as the oldest accepted recipients leave the window.
		retry := now.Add(minute) // only in-flight reservations hold it
		if len(st.events) > 0 {
			retry = st.events[0].at.Add(day)
		}
		return &Refusal{Kind: KindPerDay, Limit: tx.lim.RecipientsPerDay, RetryAt: retry}
	}
	st.reservedRcpt++
	tx.rcpts++
	return nil
}

// Recipients is how many recipients the transaction holds.
func (tx *Tx) Recipients() int { return tx.rcpts }

// Commit records the accepted message at now and releases the slot.
func (tx *Tx) Commit(now time.Time) { tx.end(now, true) }

// Abort releases the slot and every reservation.
func (tx *Tx) Abort() { tx.end(time.Time{}, false) }

// Lease is 0: a Tracker's limits are in memory.
func (tx *Tx) Lease() int64 { return 0 }

func (tx *Tx) end(now time.Time, accepted bool) {
	if tx == nil || tx.closed {
		return
	}
	tx.closed = true
	sh, st := tx.t.get(tx.id)
	defer sh.mu.Unlock()
	st.inflight--
	st.reservedMsgs--
	st.reservedRcpt -= tx.rcpts
	if accepted {
		// Events stay ordered: now is never before an earlier commit's now
		// on one clock; guard anyway.
		i := len(st.events)
		for i > 0 && st.events[i-1].at.After(now) {
			i--
		}
		st.events = append(st.events, event{})
		copy(st.events[i+1:], st.events[i:])
		st.events[i] = event{now, tx.rcpts}
		st.dayRcpts += tx.rcpts
	}
}

// Usage is a mailbox's current counters.
type Usage struct {
	InFlight         int
	MessagesLastMin  int
	RecipientsLast24 int
}

// Usage returns the mailbox's counters at now.
func (t *Tracker) Usage(mailboxID int64, now time.Time) Usage {
	sh, st := t.get(mailboxID)
	defer sh.mu.Unlock()
	st.prune(now)
	n, _ := st.lastMinute(now)
	return Usage{InFlight: st.inflight, MessagesLastMin: n, RecipientsLast24: st.dayRcpts}
}

// InFlight returns the transactions in flight per mailbox id (only those
// with some).
func (t *Tracker) InFlight() map[int64]int {
	out := make(map[int64]int)
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		for id, st := range sh.m {
			if st.inflight > 0 {
				out[id] = st.inflight
			}
		}
		sh.mu.Unlock()
	}
	return out
}

// Hold is one mail transaction's hold on its mailbox's limits, as both
// Tracker (one node, in memory) and Shared (nodes on one PostgreSQL) give
// it. Reserve returns a *Refusal when a limit refuses, another error when
// the limits could not be checked. Commit and Abort are idempotent.
type Hold interface {
	Reserve(ctx context.Context, now time.Time) error
	Commit(now time.Time)
	Abort()
	// Lease is the store lease the transaction holds (store.Acceptance.Lease),
	// or 0 when its limits are kept in memory.
	Lease() int64
}

// Acquire is Begin for callers that take either implementation: the
// refusal, if any, is the error.
func (t *Tracker) Acquire(_ context.Context, mailboxID int64, lim store.Limits, now time.Time) (Hold, error) {
	tx, ref := t.Begin(mailboxID, lim, now)
	if ref != nil {
		return nil, ref
	}
	return tx, nil
}

// Reserve is AddRecipient with the refusal, if any, as the error.
func (tx *Tx) Reserve(_ context.Context, now time.Time) error {
	if ref := tx.AddRecipient(now); ref != nil {
		return ref
	}
	return nil
}
