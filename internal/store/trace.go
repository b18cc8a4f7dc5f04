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

	// Attempt marks the event that ends a submission attempt (an
	// acceptance, a refused AUTH, MAIL, DATA or BDAT, a failed TLS
	// handshake, a session with no command): the trace lists it as one
	// row, and SearchAttempts finds it by every address below.
	Attempt      bool
	HeaderFrom   []string // the From: addresses (normalized), as accepted or refused
	HeaderSender string   // the Sender: address (normalized), as accepted or refused
	Subject      string   // the Subject:, decoded and clipped
	Connector    string   // the connector that admitted the client, "" after AUTH
}

// TraceFilter selects trace events (an attempt's detail, the dashboard's
// counts); AttemptFilter selects the trace's rows. Set fields are ANDed;
// Sessions and QueueIDs, when set, select events of any of those sessions
// OR queue ids.
type TraceFilter struct {
	Mailbox  string
	Status   string
	Since    time.Time // events at or after
	Sessions []string
	QueueIDs []string
	Limit    int // at most this many events, newest first; 0: no limit
}

// AttemptFilter selects submission attempts (events with Attempt set).
// Set fields are ANDed. Addresses compare byte for byte; with a Prefix
// flag they match every address that starts with them.
type AttemptFilter struct {
	Mailbox       string // the logged-in mailbox (or the connector's)
	MailboxPrefix bool
	// Sender matches the envelope sender, a header From address or the
	// header Sender: "bob@" finds bob's send-on-behalf messages too.
	Sender          string
	SenderPrefix    bool
	Recipient       string // an envelope recipient
	RecipientPrefix bool
	Subject         string // a substring of the Subject, ASCII case ignored
	MessageID       string
	QueueID         string
	// Status is the attempt's own status (accepted, refused, tls_failed,
	// no_command); Delivery a status a delivery event of its queue id had
	// (deferred, delivered, failed).
	Status   string
	Delivery string
	Since    time.Time // at or after
	Until    time.Time // before
	// After is the keyset cursor: attempts older than (AfterAt, AfterID)
	// in the list's order (at, then id, both descending).
	AfterAt time.Time
	AfterID int64
	Limit   int // at most this many; required (1 to MaxAttemptPage)
}

// MaxAttemptPage bounds one page of SearchAttempts.
const MaxAttemptPage = 1024

// Trace is the append-only store of trace events. It is kept small and
// plain SQL so that every store implements it alike.
type Trace interface {
	// AppendTrace writes events in one transaction; IDs are assigned.
	AppendTrace(ctx context.Context, events []TraceEvent) error
	// SearchTrace returns the events f selects, newest first when f.Limit
	// is set, else oldest first.
	SearchTrace(ctx context.Context, f TraceFilter) ([]TraceEvent, error)
	// SearchAttempts returns the attempts f selects, newest first.
	SearchAttempts(ctx context.Context, f AttemptFilter) ([]TraceEvent, error)
	// TraceEvent returns the event with that id; ErrNotFound if none.
	TraceEvent(ctx context.Context, id int64) (TraceEvent, error)
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
