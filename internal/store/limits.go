package store

import (
	"context"
	"time"
)

// Leases holds the per-mailbox limits of a store that several nodes share
// (PostgreSQL): a lease row per mail transaction in flight, with an expiry
// the holding node renews, and the recipients the transaction reserved.
// Together with the submission log (written by Accept) they let every node
// decide for one mailbox as if it were alone. A node that dies stops
// renewing, and its leases stop counting once they expire.
//
// It is separate from Store: the embedded SQLite store serves one node,
// which keeps these counters in memory (package limits).
type Leases interface {
	// AcquireLease takes a concurrency slot of req.MailboxID for req.Node,
	// deciding and inserting in one transaction serialized per mailbox.
	// It refuses with LeaseConcurrent when the mailbox's unexpired leases
	// number req.Concurrent or more, and with LeaseRate (Oldest = the
	// oldest message of the minute, zero if none) when the messages
	// accepted in the minute before req.Now plus the unexpired leases
	// reach req.MessagesPerMinute. A granted lease expires req.TTL after
	// the database's clock unless RenewLeases extends it.
	AcquireLease(ctx context.Context, req LeaseRequest) (LeaseResult, error)
	// ReserveLeaseRecipient adds one recipient to lease id, unless the
	// recipients accepted in the 24 hours before now plus those reserved
	// by the mailbox's unexpired leases reach perDay: then LeaseDaily, with
	// Oldest the oldest accepted message of the window (zero if none). It
	// returns ErrNotFound when the lease is gone (it expired and another
	// node reaped it).
	ReserveLeaseRecipient(ctx context.Context, id int64, perDay int, now time.Time) (LeaseResult, error)
	// RenewLeases extends the leases ids (those of transactions still in
	// flight) to ttl past the database's clock and returns how many still
	// exist.
	RenewLeases(ctx context.Context, ids []int64, ttl time.Duration) (int, error)
	// ReleaseLease deletes lease id; a lease already gone is no error.
	ReleaseLease(ctx context.Context, id int64) error
	// LiveLeases returns how many unexpired leases the mailbox has: its
	// transactions in flight on every node.
	LiveLeases(ctx context.Context, mailboxID int64) (int, error)
}

// LeaseRequest asks for a concurrency slot.
type LeaseRequest struct {
	MailboxID int64
	// Node names the process that holds the lease and renews it.
	Node              string
	Concurrent        int
	MessagesPerMinute int
	// Now is the node's time, compared with the submission log's times.
	Now time.Time
	// TTL is how long the lease lasts without renewal.
	TTL time.Duration
}

// LeaseOutcome says whether a lease or a reservation was granted, and
// which limit refused it.
type LeaseOutcome int

// The outcomes of AcquireLease and ReserveLeaseRecipient.
const (
	LeaseGranted LeaseOutcome = iota
	LeaseConcurrent
	LeaseRate
	LeaseDaily
)

// LeaseResult is the answer of AcquireLease or ReserveLeaseRecipient.
type LeaseResult struct {
	Outcome LeaseOutcome
	// ID is the lease granted by AcquireLease.
	ID int64
	// Oldest is, for LeaseRate and LeaseDaily, the time of the oldest
	// accepted message still in the window: the budget returns as it
	// leaves.
	Oldest time.Time
}
