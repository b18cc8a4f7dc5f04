package store

import (
	"context"
	"time"
)

// TraceEvent is one entry of the message trace: something that happened to
// a submission attempt (its connection, AUTH, a refusal with the reply
// sent, the acceptance, a copy saved) or to an accepted message (a
// delivery attempt with the remote reply). Events are appended and never
// changed; package trace names the kinds and statuses.
type TraceEvent struct {
	ID      int64
	At      time.Time
	Session string // the connection id (submission's conn); "" for queue events
	QueueID string // the accepted message's queue id; "" before acceptance
	Kind    string // trace.KindSession, KindAuth, KindRefused, KindAccepted, KindCopy, KindDelivery, KindDropped
	// Status is the outcome the event stands for, as trace searches filter
	// on it: accepted, refused, deferred, delivered or failed; "" for
	// events that decide nothing (a connection, a successful AUTH).
	Status     string
	Command    string   // the SMTP command refused: AUTH, MAIL, RCPT, DATA
	Remote     string   // the client's address, or the remote host a delivery talked to
	TLS        string   // TLS version of the connection; "" without TLS
	Mailbox    string   // the authenticated mailbox, or the mailbox a copy went to
	Sender     string   // envelope sender
	Recipients []string // envelope recipients (all at acceptance; one for a delivery)
	MessageID  string   // the Message-ID header
	Size       int64
	Reason     string // stable token (policy.Reason, or the submission's token for a reply)
	Code       int    // the reply's code: the one sent to the client, or the remote server's
	Enhanced   string // its enhanced status code, "5.7.60"
	Text       string // its text
	Detail     string // anything else worth showing ("Sent Items", "next attempt at ...")
}

// TraceFilter selects trace events. Set fields are ANDed; Sessions and
// QueueIDs, when set, select events of any of those sessions OR queue ids.
type TraceFilter struct {
	Sender    string // events whose Sender is this address
	Recipient string // events whose Recipients include this address
	MessageID string
	QueueID   string
	Mailbox   string
	Status    string
	Since     time.Time // events at or after
	Sessions  []string
	QueueIDs  []string
	Limit     int // at most this many events, newest first; 0: no limit
}

// Trace is the append-only store of trace events. It is kept small and
// plain SQL so that every store implements it alike.
type Trace interface {
	// AppendTrace writes events in one transaction; IDs are assigned.
	AppendTrace(ctx context.Context, events []TraceEvent) error
	// SearchTrace returns the events f selects, newest first when f.Limit
	// is set, else oldest first.
	SearchTrace(ctx context.Context, f TraceFilter) ([]TraceEvent, error)
	// DeleteTraceBefore deletes events older than cutoff and returns how many went.
	DeleteTraceBefore(ctx context.Context, cutoff time.Time) (int, error)
}

// APIToken is a bearer token of the JSON API. Only the SHA-256 hash of the
// token is stored.
type APIToken struct {
	ID        int64
	Label     string // unique
	Hash      string // hex SHA-256 of the token
	CreatedAt time.Time
}

// APITokens stores the JSON API's bearer tokens.
type APITokens interface {
	// AddAPIToken stores a token (ID and CreatedAt are set); ErrConflict if the label exists.
	AddAPIToken(ctx context.Context, t APIToken) (APIToken, error)
	// APITokens lists the tokens by label.
	APITokens(ctx context.Context) ([]APIToken, error)
	// APITokenByHash returns the token with that hash; ErrNotFound if none.
	APITokenByHash(ctx context.Context, hash string) (APIToken, error)
	// RevokeAPIToken deletes the token with that label; ErrNotFound if absent.
	RevokeAPIToken(ctx context.Context, label string) error
}
