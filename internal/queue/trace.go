package queue

import (
	"fmt"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// deliveryEvent is the trace event of one recipient's attempt: the reply
// that decided it and the state the row moves to.
func deliveryEvent(e store.QueueEntry, r Result, o store.Outcome, now time.Time) store.TraceEvent {
	ev := store.TraceEvent{At: now, Kind: trace.KindDelivery, QueueID: e.MessageID, MessageID: e.HeaderID, Sender: e.EnvelopeFrom,
		Recipients: []string{e.Recipient}, Remote: r.Remote, Code: r.Code, Enhanced: r.Enhanced, Text: r.Text}
	switch {
	case !o.Attempted:
		ev.Status, ev.Detail = trace.StatusDeferred, "attempt interrupted by shutdown; due again at once"
	case o.State == store.StateDelivered:
		ev.Status = trace.StatusDelivered
	case o.State == store.StateFailed:
		ev.Status, ev.Detail = trace.StatusFailed, fmt.Sprintf("failed after %d attempts: %s", e.Attempts+1, o.LastReply)
	default:
		ev.Status, ev.Detail = trace.StatusDeferred, fmt.Sprintf("attempt %d; next attempt at %s", e.Attempts+1, o.NextAttemptAt.UTC().Format(time.RFC3339))
	}
	return ev
}
