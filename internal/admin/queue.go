package admin

import (
	"context"
	"fmt"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/store"
)

// QueueStates are the states Queue filters on; "" or "all" lists every
// row.
var QueueStates = []string{store.StateQueued, store.StateDelivered, store.StateFailed}

// Queue lists queue rows (with their message's sender and Message-ID),
// oldest first: of one state unless state is "" or "all", of one message
// unless id is "".
func (s *Service) Queue(ctx context.Context, state, id string, limit int) ([]store.QueueEntry, error) {
	if state == "all" {
		state = ""
	}
	if state != "" && state != store.StateQueued && state != store.StateDelivered && state != store.StateFailed {
		return nil, fmt.Errorf("%w: state %q: want queued, delivered, failed or all", ErrInvalid, state)
	}
	return s.st.ListQueue(ctx, store.QueueFilter{State: state, MessageID: id, Limit: limit})
}

// QueueSelection names the queued rows a retry or drop changes: the rows
// of the message with queue id ID (only Recipient's, when set), or with
// All every queued row.
type QueueSelection struct {
	ID        string
	Recipient string
	All       bool
}

func (s *Service) selector(ctx context.Context, sel QueueSelection) (store.QueueSelector, error) {
	switch {
	case sel.All && (sel.ID != "" || sel.Recipient != ""):
		return store.QueueSelector{}, fmt.Errorf("%w: give a queue id or --all, not both", ErrInvalid)
	case sel.All:
		return store.QueueSelector{All: true}, nil
	case sel.ID == "":
		return store.QueueSelector{}, fmt.Errorf("%w: give a queue id (mailroom queue list shows them) or --all", ErrInvalid)
	}
	if _, err := s.st.Message(ctx, sel.ID); err != nil {
		return store.QueueSelector{}, fmt.Errorf("queue id %s %w (mailroom queue list shows the queue)", sel.ID, ErrNotFound)
	}
	out := store.QueueSelector{MessageID: sel.ID}
	if sel.Recipient != "" {
		r, err := address.Normalize(sel.Recipient)
		if err != nil {
			return out, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		out.Recipient = r
	}
	return out, nil
}

// RetryQueue makes the selected queued rows due now; a running server
// attempts them within delivery.queue_poll. It returns how many rows
// changed.
func (s *Service) RetryQueue(ctx context.Context, sel QueueSelection) (int, error) {
	st, err := s.selector(ctx, sel)
	if err != nil {
		return 0, err
	}
	return s.st.RetryNow(ctx, st, time.Now())
}

// DropReply is the last reply of a dropped row.
const DropReply = "dropped by an administrator (mailroom queue drop); no DSN sent"

// DropQueue gives up the selected queued rows: they are marked failed
// with DropReply, kept for the record, and no DSN is sent (the
// administrator is the one who knows). It returns how many rows changed.
func (s *Service) DropQueue(ctx context.Context, sel QueueSelection) (int, error) {
	st, err := s.selector(ctx, sel)
	if err != nil {
		return 0, err
	}
	n, err := s.st.Drop(ctx, st, DropReply, time.Now())
	s.traceDrop(ctx, st, n, err)
	return n, err
}
