// Package store owns mailroom's persistent state behind one interface: the
// directory (domains and mailboxes), accepted messages, their queue rows and
// folder references. Only its implementations (store/sqlite today,
// store/postgres later) speak SQL; every other package sees these types.
//
// Message bodies are not stored here: they live in package blob, and a row
// only names a blob key. Callers make a blob durable before they commit the
// rows that point at it.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned when the named domain, mailbox or message does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a create would duplicate an existing name, or a
// remove would orphan rows that depend on the object (a domain with mailboxes).
var ErrConflict = errors.New("conflict")

// Folder names a mailbox folder. Messages are stored once and referenced from
// any number of folders.
type Folder string

// The folders every mailbox has.
const (
	FolderInbox Folder = "Inbox"
	FolderSent  Folder = "Sent Items"
)

// Recipient states of a queue row.
const (
	StateQueued    = "queued"    // waiting for a delivery attempt
	StateDelivered = "delivered" // delivered; never attempted again
	StateFailed    = "failed"    // failed permanently; a DSN is due or sent
)

// Domain is a mail domain mailroom serves.
type Domain struct {
	ID        int64
	Name      string // lower case, ASCII (A-labels)
	CreatedAt time.Time
}

// Mailbox is an address that can log in (unless Shared) and owns folders.
type Mailbox struct {
	ID           int64
	Address      string // normalized: lower-case local part and domain
	Domain       string
	DisplayName  string
	PasswordHash string // PHC-encoded argon2id; empty for shared mailboxes
	SMTPAuth     bool   // SMTP AUTH allowed for this mailbox
	Shared       bool   // shared mailboxes cannot log in
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Message is one accepted submission.
type Message struct {
	ID           string // queue id, returned to the client in the 250 reply
	MessageID    string // the Message-ID header, without angle brackets
	MailboxID    int64  // the authenticated mailbox that submitted it
	EnvelopeFrom string
	Size         int64  // bytes of the stored (Sent Items) copy
	Blob         string // blob key of the copy as submitted (Bcc kept)
	DeliveryBlob string // blob key of the copy delivered to recipients (Bcc removed); may equal Blob
	CreatedAt    time.Time
}

// QueueRow is one envelope recipient of an accepted message.
type QueueRow struct {
	ID            int64
	MessageID     string // Message.ID
	Recipient     string
	State         string // StateQueued, StateDelivered or StateFailed
	Attempts      int
	NextAttemptAt time.Time
	LastReply     string
	UpdatedAt     time.Time
}

// FolderEntry is a reference from a mailbox folder to a stored message.
type FolderEntry struct {
	ID        int64
	MailboxID int64
	Folder    Folder
	MessageID string // Message.ID
	Blob      string
	Size      int64
	CreatedAt time.Time
}

// Acceptance is everything written when a submission is accepted: the message,
// one queue row per envelope recipient and the folder references. Accept
// writes it in one transaction.
type Acceptance struct {
	Message Message
	// Recipients are the envelope recipients, one queue row each.
	// Recipients listed in Delivered are recorded as delivered at once
	// (local mailboxes, whose Inbox entries are in Entries).
	Recipients []string
	Delivered  map[string]bool
	// Entries are the folder references written with the message
	// (the sender's Sent Items, local recipients' Inboxes).
	Entries []FolderEntry
}

// Directory is the read and write access to domains and mailboxes.
type Directory interface {
	// CreateDomain adds a domain; ErrConflict if it exists.
	CreateDomain(ctx context.Context, name string) (Domain, error)
	// Domains lists all domains by name.
	Domains(ctx context.Context) ([]Domain, error)
	// DeleteDomain removes a domain; ErrNotFound if absent, ErrConflict if it still has mailboxes.
	DeleteDomain(ctx context.Context, name string) error

	// CreateMailbox adds a mailbox; its domain must exist (ErrNotFound)
	// and its address must be new (ErrConflict). ID and timestamps are set
	// from the stored row.
	CreateMailbox(ctx context.Context, m Mailbox) (Mailbox, error)
	// UpdateMailbox writes DisplayName, PasswordHash, SMTPAuth and Shared of
	// the mailbox with m.Address; ErrNotFound if absent.
	UpdateMailbox(ctx context.Context, m Mailbox) error
	// Mailbox returns one mailbox by normalized address.
	Mailbox(ctx context.Context, address string) (Mailbox, error)
	// Mailboxes lists mailboxes by address, of one domain or (domain "") all.
	Mailboxes(ctx context.Context, domain string) ([]Mailbox, error)
	// DeleteMailbox removes a mailbox and its folder references; ErrNotFound if absent.
	DeleteMailbox(ctx context.Context, address string) error

	// DirectoryVersion returns a counter that every directory write increases,
	// in the same transaction, so readers in other processes can tell that
	// their cached copy is stale.
	DirectoryVersion(ctx context.Context) (int64, error)
}

// Messages is access to accepted messages, the queue and folders.
type Messages interface {
	// Accept writes a.Message, its queue rows and its folder entries in one
	// transaction. When Accept returns nil, all of it is durable. The blobs
	// the rows name must already be durable.
	Accept(ctx context.Context, a Acceptance) error
	// Message returns one message by queue id.
	Message(ctx context.Context, id string) (Message, error)
	// QueueRows returns the queue rows of one message, or of all messages
	// (id ""), oldest first.
	QueueRows(ctx context.Context, messageID string) ([]QueueRow, error)
	// FolderEntries lists a mailbox's folder, oldest first.
	FolderEntries(ctx context.Context, mailboxID int64, folder Folder) ([]FolderEntry, error)
}

// Store is the whole persistent state. Implementations are safe for
// concurrent use and tolerate other processes using the same database.
type Store interface {
	Directory
	Messages
	Queue
	DKIMKeys
	// Close releases the database; pending writes are complete when it returns.
	Close() error
}
