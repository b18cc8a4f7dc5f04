package store

import (
	"context"
	"time"
)

// QueueEntry is a queue row with what a delivery attempt needs from its
// message, as ClaimDue and ListQueue return it.
type QueueEntry struct {
	QueueRow
	EnvelopeFrom  string    // Message.EnvelopeFrom; "" for a DSN (null sender)
	HeaderID      string    // Message.MessageID, the Message-ID header
	DeliveryBlob  string    // Message.DeliveryBlob: the copy recipients get
	Size          int64     // Message.Size
	AcceptedAt    time.Time // Message.CreatedAt: max_age and delay_notice count from here
	LeaseUntil    time.Time // the row is being attempted until then; zero when not leased
	DelayNotified bool      // a delay notice for this row was sent
}

// Outcome is what one delivery attempt did to one claimed queue row.
type Outcome struct {
	RowID int64
	// Lease is the LeaseUntil the row was claimed with. Record writes the
	// outcome only while the row still holds that lease and is queued: an
	// attempt whose lease ran out (and was claimed again), or a row an
	// administrator dropped meanwhile, is left alone.
	Lease time.Time
	// State is the row's new state: StateDelivered, StateFailed, or
	// StateQueued to try again at NextAttemptAt.
	State         string
	NextAttemptAt time.Time
	// Attempted says whether an attempt was made (attempts is increased and
	// LastReply written); false only releases the lease, as when the
	// server shuts down before the attempt could finish.
	Attempted bool
	LastReply string
	// DelayNotified marks that a delay notice covering the row is written.
	DelayNotified bool
	// Entry, when not nil, is a folder reference written with the
	// outcome (a local recipient's Inbox), so that local delivery happens
	// exactly once.
	Entry *FolderEntry
}

// QueueSelector names queue rows for an administrative change: the rows
// of one message (MessageID), optionally only one Recipient; or, with All,
// every row. Only rows in StateQueued are changed.
type QueueSelector struct {
	MessageID string
	Recipient string
	All       bool
}

// QueueFilter narrows ListQueue. Zero values do not filter.
type QueueFilter struct {
	State     string // StateQueued, StateDelivered or StateFailed
	MessageID string
	Limit     int
}

// Queue is the outbound queue's access to its rows: claiming due rows with
// a lease, renewing the lease while an attempt runs, recording attempts,
// and the administrative retry and drop.
//
// A lease makes a crash safe: a claimed row whose outcome is never
// recorded is due again once its lease expires. Implementations claim so
// that concurrent claimers never get the same row (SQLite: one IMMEDIATE
// transaction; PostgreSQL: FOR UPDATE SKIP LOCKED). Leases are set and
// compared on the store's clock (PostgreSQL: the database server's), never
// the caller's, so nodes whose clocks disagree never take each other's
// rows early.
type Queue interface {
	// ClaimDue leases up to limit queued rows that are due at now (next
	// attempt reached; now is the caller's clock, as next attempt times
	// are) and hold no unexpired lease, until the store's clock plus
	// lease, and returns them, oldest due first, rows of one message
	// together. The rows of one claim share one LeaseUntil.
	ClaimDue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]QueueEntry, error)
	// RenewQueueLeases extends the leases of the rows of ids that still hold
	// lease old (queued, not claimed again, not dropped) until the store's
	// clock plus lease. It returns the new lease and the rows renewed; a
	// row left out is no longer the caller's, and an outcome recorded
	// with old is skipped.
	RenewQueueLeases(ctx context.Context, ids []int64, old time.Time, lease time.Duration) (until time.Time, renewed []int64, err error)
	// Record writes outcomes of claimed rows and, when notice is not nil
	// and at least one outcome that failed a row or noted a delay was
	// written, the notice (a DSN: its message, queue row and Inbox entry),
	// all in one transaction. It returns how many outcomes were skipped
	// because their row no longer held the lease, and whether it wrote
	// the notice. Every outcome releases its row's lease.
	Record(ctx context.Context, at time.Time, outcomes []Outcome, notice *Acceptance) (skipped int, noticed bool, err error)
	// ListQueue returns queue rows with their message's data, oldest first.
	ListQueue(ctx context.Context, f QueueFilter) ([]QueueEntry, error)
	// RetryNow makes the selected queued rows due at now. It returns how
	// many rows it changed.
	RetryNow(ctx context.Context, sel QueueSelector, now time.Time) (int, error)
	// Drop marks the selected queued rows failed with reply as their last
	// reply, without a DSN. It returns how many rows it changed.
	Drop(ctx context.Context, sel QueueSelector, reply string, now time.Time) (int, error)
}

// StateDeferred is how a queued row that has had at least one attempt is
// reported: waiting to retry after a transient failure. It is never
// stored; ShownState derives it.
const StateDeferred = "deferred"

// ShownState is the state a queue row is reported in, by /metrics
// (QueueDepth) and by the console alike: a StateQueued row never
// attempted is StateQueued, one attempted before is StateDeferred; other
// states are shown as stored. It is the one place that split is decided.
func ShownState(state string, attempts int) string {
	if state == StateQueued && attempts > 0 {
		return StateDeferred
	}
	return state
}
