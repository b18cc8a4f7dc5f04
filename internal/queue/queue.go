// Package queue owns outgoing messages from acceptance until each
// envelope recipient is delivered or has failed: it claims due recipients
// from the store, hands them to a Deliverer grouped by message and
// destination domain, and records every recipient's result; transient
// failures are retried on the backoff schedule, permanent failures and
// expiry (delivery.max_age) retire the recipient with a DSN to the sender,
// and a recipient still waiting after delivery.delay_notice gets one delay
// notice.
//
// Failure semantics, per recipient. Every recipient row has its own state,
// attempt count, last reply and next attempt time. A claim takes only as
// many rows as there are free workers, so every claimed row is attempted at
// once, and leases them (for attempt_timeout plus a minute, on the store's
// clock); the lease is renewed every third of that while the attempt runs,
// so a slow destination never lets another worker or node claim a row in
// progress. Outcomes are written only while the lease holds, each in one
// transaction with what it implies (a local Inbox entry, a DSN). If the
// process dies during an attempt, nothing is recorded and the rows are due
// again when the lease ends.
//
// Delivery is at least once, never at most once: a recipient recorded as
// delivered is never attempted again, but the window between the remote
// server's 250 after the final dot and the commit that records it (a crash,
// a lost store, a lease that ran out) re-sends the message on the next
// attempt. The window is one store transaction long in normal operation.
// A 250 whose reply is lost on the network is, as for every SMTP client,
// indistinguishable from a failure and is also retried (RFC 5321 §6.1).
//
// DSNs are sent with a null envelope sender and a message with a null
// sender never causes one (RFC 5321 §4.5.5).
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/blob"
	"mailroom/internal/message"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// Store is what the queue needs of the store: its rows, and the mailboxes
// and domains to tell whether a DSN's recipient is local.
type Store interface {
	store.Queue
	Mailbox(ctx context.Context, address string) (store.Mailbox, error)
	Domains(ctx context.Context) ([]store.Domain, error)
}

// Options are the dependencies and settings of a Queue.
type Options struct {
	Store     Store
	Blobs     blob.Store
	Deliverer Deliverer
	Log       *slog.Logger
	// Hostname names this server in DSNs.
	Hostname string
	// Now is the clock; default time.Now.
	Now func() time.Time

	// Schedule is the wait after each transient failure (the last one
	// repeats); MaxAge is when a message's remaining recipients fail;
	// DelayNotice, when not 0, is when one delay notice is sent.
	Schedule    []time.Duration
	MaxAge      time.Duration
	DelayNotice time.Duration
	// Workers bounds the attempts in progress. Default 16.
	Workers int
	// AttemptTimeout bounds one attempt. Default 20m.
	AttemptTimeout time.Duration
	// Lease is how long a claim holds its rows before another claimer may
	// take them; it is renewed every Lease/3 while their attempt runs.
	// Default AttemptTimeout plus a minute.
	Lease time.Duration
	// MaxHeaderBytes bounds the original header a DSN quotes ([submission]
	// max_header_bytes); a longer one is left out of the DSN, which still
	// names the message by its queue id. Default
	// message.DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// Poll is how often the store is asked for due rows when nothing
	// else wakes the queue. Default 1s.
	Poll time.Duration
	// Postmaster (delivery.postmaster) gets a copy of every DSN that
	// reports a failed recipient; "" sends none.
	Postmaster string
	// Trace records every attempt's result; nil records none.
	Trace *trace.Writer
}

// Queue runs the delivery workers.
type Queue struct {
	o     Options
	log   *slog.Logger
	lease time.Duration
	wake  chan struct{}

	mu   sync.Mutex
	next time.Time // earliest retry this process scheduled; zero if none
}

// New returns a Queue; Run starts it.
func New(o Options) *Queue {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if len(o.Schedule) == 0 {
		o.Schedule = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour, 4 * time.Hour}
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 48 * time.Hour
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 20 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = message.DefaultMaxHeaderBytes
	}
	if o.Lease <= 0 {
		o.Lease = o.AttemptTimeout + time.Minute
	}
	return &Queue{o: o, log: o.Log, lease: o.Lease, wake: make(chan struct{}, 1)}
}

// Wake makes the queue look for due rows now (after an acceptance).
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Backoff returns the wait after a transient failure when attempts
// attempts had been made before it.
func Backoff(schedule []time.Duration, attempts int) time.Duration {
	if attempts >= len(schedule) {
		attempts = len(schedule) - 1
	}
	if attempts < 0 {
		attempts = 0
	}
	return schedule[attempts]
}

// Run claims and attempts due rows until ctx ends, then waits for the
// attempts in progress to finish (they are cut short by ctx) and returns.
// A claim takes at most as many rows as there are free workers, and each
// group of claimed rows starts its attempt at once: no claimed row waits
// (with its lease running out) behind a busy worker.
func (q *Queue) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	finished := make(chan struct{}, 1)
	var mu sync.Mutex
	active := 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		mu.Lock()
		free := q.o.Workers - active
		mu.Unlock()
		more := false
		if free > 0 && ctx.Err() == nil {
			now := q.o.Now()
			q.mu.Lock()
			if !q.next.IsZero() && !now.Before(q.next) {
				q.next = time.Time{}
			}
			q.mu.Unlock()
			es, err := q.o.Store.ClaimDue(ctx, now, free, q.lease)
			if err != nil && ctx.Err() == nil {
				q.log.Error("claim due queue rows", "err", err)
			}
			more = len(es) == free
			for _, g := range groups(es) {
				mu.Lock()
				active++
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					q.attempt(ctx, g)
					mu.Lock()
					active--
					mu.Unlock()
					select {
					case finished <- struct{}{}:
					default:
					}
				}()
			}
		}
		if more {
			continue // workers may be left: the rows were fewer groups
		}
		wait := q.o.Poll
		q.mu.Lock()
		if !q.next.IsZero() && free > 0 {
			// With every worker busy, a finished attempt wakes the loop;
			// a retry already due must not make it spin.
			if d := q.next.Sub(q.o.Now()); d < wait {
				wait = max(d, 0)
			}
		}
		q.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-finished:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// group is the claimed rows of one message for one destination domain.
type group struct {
	domain string
	rows   []store.QueueEntry
}

// groups splits claimed rows by message and recipient domain, keeping
// their order.
func groups(es []store.QueueEntry) []group {
	var out []group
	idx := map[[2]string]int{}
	for _, e := range es {
		k := [2]string{e.MessageID, address.DomainOf(e.Recipient)}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, group{domain: k[1]})
		}
		out[i].rows = append(out[i].rows, e)
	}
	return out
}

// scheduled notes a retry time so the loop wakes for it.
func (q *Queue) scheduled(t time.Time) {
	q.mu.Lock()
	if q.next.IsZero() || t.Before(q.next) {
		q.next = t
	}
	q.mu.Unlock()
	q.Wake()
}

// release gives back the leases of rows never attempted (shutdown).
func (q *Queue) release(g group) {
	outs := make([]store.Outcome, len(g.rows))
	for i, e := range g.rows {
		outs[i] = store.Outcome{RowID: e.ID, Lease: e.LeaseUntil}
	}
	q.record(g, outs, nil)
}

// attempt delivers one group and records the results.
func (q *Queue) attempt(ctx context.Context, g group) {
	first := g.rows[0]
	env := Envelope{QueueID: first.MessageID, MessageID: first.HeaderID, From: first.EnvelopeFrom, Blob: first.DeliveryBlob, Size: first.Size}
	rcpts := make([]string, len(g.rows))
	for i, e := range g.rows {
		rcpts[i] = e.Recipient
	}
	actx, cancel := context.WithTimeout(ctx, q.o.AttemptTimeout)
	stopRenewing := q.renew(actx, cancel, g.rows)
	started := time.Now()
	results := q.o.Deliverer.Deliver(actx, env, g.domain, rcpts)
	metricAttemptSeconds.Observe(time.Since(started).Seconds())
	stopRenewing() // g.rows now hold the leases to record under
	cancel()
	if len(results) != len(rcpts) {
		q.log.Error("deliverer returned a wrong number of results", "queue_id", env.QueueID, "rcpts", len(rcpts), "results", len(results))
		q.release(g)
		return
	}
	now := q.o.Now()
	shutdown := ctx.Err() != nil
	var outs []store.Outcome
	var notes []note
	for i, e := range g.rows {
		r := results[i]
		metricAttempts.WithLabelValues(r.Status.String()).Inc()
		o, n := q.decide(e, r, now, shutdown)
		outs = append(outs, o)
		if n != nil {
			notes = append(notes, *n)
		}
		q.logResult(e, r, o)
	}
	var notice *store.Acceptance
	if len(notes) > 0 && env.From != "" {
		var err error
		if notice, err = q.notice(ctx, first, notes, now); err != nil {
			// The outcomes are recorded all the same (a delivered
			// recipient must not be sent again), but none that needs the
			// DSN: a failure is retried on the schedule and a delay
			// notice is due again, so the DSN is tried again then.
			q.log.Error("build dsn; failures retried without it", "queue_id", env.QueueID, "err", err)
			outs = q.withoutNotice(g.rows, outs, now)
		}
	}
	q.record(g, outs, notice)
}

// withoutNotice turns the outcomes that a DSN was to report into ones that
// need none: a failed row is retried on the backoff schedule, a delay
// notice is not marked sent.
func (q *Queue) withoutNotice(rows []store.QueueEntry, outs []store.Outcome, now time.Time) []store.Outcome {
	for i, o := range outs {
		if !o.Attempted {
			continue
		}
		if o.State == store.StateFailed {
			o.State = store.StateQueued
			o.NextAttemptAt = now.Add(Backoff(q.o.Schedule, rows[i].Attempts))
		}
		o.DelayNotified = false
		outs[i] = o
	}
	return outs
}

// renew keeps the leases of rows while their attempt runs: every third of
// the lease it extends them, and writes the new lease into rows, so that
// the outcomes are recorded under it. A row the store no longer holds for
// this claim (dropped by an administrator, or claimed again after its
// lease ran out while the store could not be reached) keeps its old lease,
// and its outcome is skipped; when no row is held any more, the attempt is
// cancelled. The returned func stops renewing and waits until it has
// stopped.
func (q *Queue) renew(ctx context.Context, cancel context.CancelFunc, rows []store.QueueEntry) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(q.lease / 3)
		defer t.Stop()
		held := rows[0].LeaseUntil // the rows of one claim share it
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var ids []int64
			for _, e := range rows {
				if e.LeaseUntil.Equal(held) {
					ids = append(ids, e.ID)
				}
			}
			rctx, rcancel := context.WithTimeout(ctx, q.lease/3)
			until, renewed, err := q.o.Store.RenewQueueLeases(rctx, ids, held, q.lease)
			rcancel()
			if err != nil {
				q.log.Warn("renew queue leases", "queue_id", rows[0].MessageID, "err", err)
				continue
			}
			for i := range rows {
				if slices.Contains(renewed, rows[i].ID) {
					rows[i].LeaseUntil = until
				}
			}
			if len(renewed) < len(ids) {
				q.log.Warn("queue rows taken from an attempt in progress (dropped, or claimed again)", "queue_id", rows[0].MessageID, "rows", len(ids)-len(renewed))
			}
			if len(renewed) == 0 {
				cancel()
				return
			}
			held = until
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// note is a recipient a DSN reports on.
type note struct {
	entry  store.QueueEntry
	result Result
	action string // message.ActionFailed or message.ActionDelayed
	status string
}

// decide turns one result into the row's outcome and, when the sender is
// to be told, a note for the DSN.
func (q *Queue) decide(e store.QueueEntry, r Result, now time.Time, shutdown bool) (store.Outcome, *note) {
	o := store.Outcome{RowID: e.ID, Lease: e.LeaseUntil, Attempted: true, LastReply: r.Reply()}
	switch r.Status {
	case Delivered:
		o.State = store.StateDelivered
		if r.Inbox != 0 {
			o.Entry = &store.FolderEntry{MailboxID: r.Inbox, Folder: store.FolderInbox, MessageID: e.MessageID, Blob: e.DeliveryBlob, Size: r.Size, CreatedAt: now}
		}
		return o, nil
	case Permanent:
		o.State = store.StateFailed
		return o, &note{entry: e, result: r, action: message.ActionFailed, status: statusOf(r, "5.0.0")}
	}
	if shutdown {
		// Cut short by shutdown: not an attempt; due again at once.
		return store.Outcome{RowID: e.ID, Lease: e.LeaseUntil}, nil
	}
	deadline := e.AcceptedAt.Add(q.o.MaxAge)
	if !now.Before(deadline) {
		o.State = store.StateFailed
		o.LastReply = r.Reply() + fmt.Sprintf(" (given up after %d attempts over %s)", e.Attempts+1, q.o.MaxAge)
		return o, &note{entry: e, result: r, action: message.ActionFailed, status: "4.4.7"}
	}
	o.State = store.StateQueued
	o.NextAttemptAt = now.Add(Backoff(q.o.Schedule, e.Attempts))
	if o.NextAttemptAt.After(deadline) {
		// One last attempt at the deadline.
		o.NextAttemptAt = deadline
	}
	if q.o.DelayNotice > 0 && !e.DelayNotified && !now.Before(e.AcceptedAt.Add(q.o.DelayNotice)) {
		o.DelayNotified = true
		return o, &note{entry: e, result: r, action: message.ActionDelayed, status: statusOf(r, "4.0.0")}
	}
	return o, nil
}

// statusOf is the enhanced code of r, or def when the reply had none.
func statusOf(r Result, def string) string {
	if r.Enhanced != "" && r.Enhanced[0] == def[0] {
		return r.Enhanced
	}
	return def
}

// record writes outcomes (and the notice) even when ctx has ended: an
// attempt that finished must not be lost to shutdown. A notice the store
// did not write (its failures were skipped) has its body removed; so has
// one whose transaction failed, unless the commit may have happened
// (store.ErrMaybeCommitted): then the body stays, and the orphan sweep
// removes it if the rows are not there.
func (q *Queue) record(g group, outs []store.Outcome, notice *store.Acceptance) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	skipped, noticed, err := q.o.Store.Record(ctx, q.o.Now(), outs, notice)
	if err != nil {
		// The rows keep their lease and are attempted again after it.
		q.log.Error("record delivery outcomes", "queue_id", g.rows[0].MessageID, "err", err)
		if notice != nil && !errors.Is(err, store.ErrMaybeCommitted) {
			q.removeNotice(notice)
		}
		return
	}
	if notice != nil && !noticed {
		q.removeNotice(notice)
	}
	if skipped > 0 {
		q.log.Warn("delivery outcomes skipped: rows changed during the attempt (dropped, or lease expired)", "queue_id", g.rows[0].MessageID, "skipped", skipped)
	}
	for _, o := range outs {
		if o.Attempted && o.State == store.StateQueued {
			q.scheduled(o.NextAttemptAt)
		}
	}
	if noticed && len(notice.Delivered) < len(notice.Recipients) {
		q.Wake() // a DSN for a remote sender is due now
	}
}

// removeNotice removes the body of a notice that was not written.
func (q *Queue) removeNotice(notice *store.Acceptance) {
	if err := q.o.Blobs.Remove(notice.Message.Blob); err != nil {
		q.log.Warn("remove unwritten dsn body", "blob", notice.Message.Blob, "err", err)
	}
}

func (q *Queue) logResult(e store.QueueEntry, r Result, o store.Outcome) {
	q.o.Trace.Record(deliveryEvent(e, r, o, q.o.Now()))
	args := []any{"queue_id", e.MessageID, "rcpt", e.Recipient, "code", r.Code, "reply", r.Reply(), "remote", r.Remote, "attempts", e.Attempts + 1}
	switch {
	case !o.Attempted:
		q.log.Info("delivery interrupted; will retry", "queue_id", e.MessageID, "rcpt", e.Recipient)
	case o.State == store.StateDelivered:
		q.log.Info("delivered", args...)
	case o.State == store.StateFailed:
		q.log.Warn("delivery failed", args...)
	default:
		q.log.Info("delivery deferred", append(args, "next_attempt", o.NextAttemptAt)...)
	}
}
