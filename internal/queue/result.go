package queue

import (
	"context"
	"fmt"
	"strings"
)

// Status is what one attempt did for one recipient.
type Status int

// The three outcomes the queue acts on.
const (
	// Transient: not delivered this time; retried on the backoff schedule
	// until delivery.max_age (4xx replies, unreachable hosts, DNS
	// timeouts).
	Transient Status = iota
	// Delivered: the destination took responsibility (2xx after the final
	// dot, or a local Inbox). Never attempted again.
	Delivered
	// Permanent: will not succeed (5xx replies, a domain that does not
	// exist or has a null MX). The recipient fails with a DSN at once.
	Permanent
)

func (s Status) String() string {
	switch s {
	case Delivered:
		return "delivered"
	case Permanent:
		return "permanent"
	}
	return "transient"
}

// Result is one recipient's outcome of one attempt, with the reply that
// decided it.
type Result struct {
	Status Status
	// Code, Enhanced and Text are the deciding reply: the remote server's
	// (550, "5.1.1", "No such user") or, when no server answered, one
	// mailroom words in the same form (451, "4.4.1", "connection refused").
	Code     int
	Enhanced string
	Text     string
	// Remote is the host that gave the reply; "" when none did.
	Remote string
	// Upstream reports that the attempt went to mailroom's own upstream
	// (a route or the smarthost), not to the recipient's server: a DSN
	// then tells the sender that the fix is this service's, not the
	// recipient's.
	Upstream bool
	// Inbox, for a local recipient, is the mailbox whose Inbox receives
	// the message. The queue writes that Inbox entry in the transaction
	// that marks the recipient delivered, so local delivery happens once.
	Inbox int64
	// Size, with Inbox, is the size of the copy the Inbox entry names
	// (Envelope.Blob, without Bcc:), which IMAP reports as RFC822.SIZE;
	// Envelope.Size is the full copy's.
	Size int64
}

// Reply returns the reply as one line: "550 5.1.1 No such user".
func (r Result) Reply() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", r.Code)
	if r.Enhanced != "" {
		b.WriteString(" " + r.Enhanced)
	}
	if r.Text != "" {
		b.WriteString(" " + strings.Join(strings.Fields(r.Text), " "))
	}
	return b.String()
}

// Envelope is the message of a delivery attempt.
type Envelope struct {
	QueueID   string // the store's message id
	MessageID string // the Message-ID header, for logs
	From      string // envelope sender; "" sends MAIL FROM:<> (DSNs)
	Blob      string // blob key of the copy recipients get (no Bcc:)
	Size      int64
}

// Deliverer makes delivery attempts. The queue declares it; package
// delivery implements it and the daemon wires the two.
type Deliverer interface {
	// Deliver makes one attempt to deliver env to rcpts, all of which are
	// in domain. It returns exactly one Result per recipient, in the order
	// of rcpts. It returns when the attempt is over or ctx is done; then
	// recipients whose outcome is unknown are Transient.
	Deliver(ctx context.Context, env Envelope, domain string, rcpts []string) []Result
}
