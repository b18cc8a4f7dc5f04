// Package store owns mailroom's persistent state behind one interface: the
// directory (domains and mailboxes), accepted messages, their queue rows,
// folder references, bodies kept in the database (Bodies), the trace and
// the limit leases of a cluster. Only its implementations speak SQL; every
// other package sees these types.
//
// store/sqlstore holds the one implementation of every operation whose SQL
// is the same in SQLite and PostgreSQL, over database/sql, and the one
// schema history; store/sqlite and store/postgres embed it and add only
// what their database does differently (see sqlstore's package doc).
// store/storetest is the contract both run.
//
// A row names its message body by a blob key (package blob): small bodies
// are rows of Bodies written in the acceptance's transaction, larger ones
// are files or Bodies written before it. Callers make a body durable
// before they commit the rows that point at it.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrNotFound is returned when the named domain, mailbox or message does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a create would duplicate an existing name, or a
// remove would orphan rows that depend on the object (a domain with mailboxes).
var ErrConflict = errors.New("conflict")

// ErrMaybeCommitted is wrapped by a write's error when the transaction may
// have committed all the same: the connection failed, or the context ended,
// after COMMIT was sent. The caller must treat what it wrote as possibly
// durable (not remove the bodies its rows name; the orphan body sweep
// removes them if the rows are not there).
var ErrMaybeCommitted = errors.New("commit outcome unknown")

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

// Display-name policies of a domain.
const (
	DisplayNameClient    = "client"    // keep the display name the client wrote
	DisplayNameDirectory = "directory" // replace it with the directory's display name
)

// Domain roles: what mailroom does with mail to a domain's addresses.
const (
	DomainHosted = "hosted" // mailboxes receive their mail in local Inboxes
	DomainRelay  = "relay"  // the mail lives upstream: every recipient goes by the domain's route
)

// Domain is a mail domain mailroom serves.
type Domain struct {
	ID          int64
	Name        string // lower case, ASCII (A-labels)
	DisplayName string // DisplayNameClient (default) or DisplayNameDirectory
	Role        string // DomainHosted (default) or DomainRelay
	// Networks, when not empty, are the CIDR prefixes SMTP submission of
	// the domain's mailboxes may come from.
	Networks  []string
	Limits    Limits // overrides of the server defaults; zero fields inherit
	CreatedAt time.Time
}

// Limits are per-mailbox throttles. At each level (server, domain,
// mailbox) a zero field inherits the level above.
type Limits struct {
	Concurrent           int // transactions in flight at once
	MessagesPerMinute    int // accepted messages per sliding minute
	RecipientsPerMessage int
	RecipientsPerDay     int // envelope recipients per rolling 24 hours
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
	IMAP         bool   // may read its folders over IMAP (default true, as Exchange's ImapEnabled)

	SaveSent         bool          // keep a Sent Items copy of what it submits (default true)
	CopySentAs       bool          // keep a Sent Items copy of what others send as it
	CopySentOnBehalf bool          // keep a Sent Items copy of what others send on its behalf
	SentRetention    time.Duration // Sent Items entries older than this are removed; 0 keeps them
	QuotaBytes       int64         // storage quota over all folders; 0 is unlimited

	// Networks, when not empty, are the CIDR prefixes SMTP submission
	// may come from (in addition to the domain's restriction).
	Networks []string
	Limits   Limits // overrides of the domain's and server's limits

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Alias is a further address a mailbox owns.
type Alias struct {
	Address string // normalized
	Mailbox string // the owning mailbox's address
}

// Grant kinds.
const (
	GrantSendAs       = "send-as"        // From: the target; nothing shows the grantee
	GrantSendOnBehalf = "send-on-behalf" // From: the target; Sender: the grantee
	GrantFullAccess   = "full-access"    // open the target mailbox's folders over IMAP; no sending
)

// Grant lets a mailbox (Grantee) send as, or on behalf of, an address or a
// whole domain (On is "@domain").
type Grant struct {
	ID        int64
	Kind      string // GrantSendAs or GrantSendOnBehalf
	On        string // normalized address, or "@" + domain
	Grantee   string // the mailbox's address
	CreatedAt time.Time
}

// AppPassword is an extra, revocable credential of one mailbox.
type AppPassword struct {
	ID           int64
	Mailbox      string // the owning mailbox's address
	Label        string // unique per mailbox, e.g. "printer-3f"
	PasswordHash string
	Networks     []string // CIDR prefixes it may be used from; empty: anywhere the mailbox may
	CreatedAt    time.Time
	LastUsedAt   time.Time // zero when never used
	LastUsedFrom string    // remote IP of the last use
}

// SubmissionRecord is one accepted message in the submission log, the
// durable basis of rate and recipient-budget counters; or, in a store that
// rolls the log up, the messages of one mailbox in one second or minute.
type SubmissionRecord struct {
	MailboxID  int64
	At         time.Time
	Recipients int
	// Messages is how many messages the record stands for: 1, or more for
	// a rolled-up second or minute.
	Messages int
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
	CreatedAt time.Time // also the IMAP internal date
	// UID numbers the entry in its folder (FolderInfo.UIDValidity); set
	// by the store when the entry is written.
	UID uint32
	// Flags are the IMAP flags and keywords, sorted (FolderEntries,
	// FolderPage and FindFolderEntry do not read them, nor UID;
	// FolderMessages does).
	Flags []string
	// Appended marks an entry a client wrote (APPEND, COPY), not mailroom.
	Appended bool
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
	// Bodies are message bodies written in the same transaction (small
	// bodies kept in the database): the rows and their bodies become
	// durable together, with one commit. Each must be at most BodyPartSize.
	Bodies []Body
	// Lease is the concurrency lease (Leases) of the mail transaction
	// being accepted, or 0. A store with leases clears its reserved
	// recipients in the acceptance's transaction: from that commit the
	// submission record counts them, and they must not count twice until
	// the lease is released.
	Lease int64
}

// BodyPartSize is the largest part of a body the database holds in one
// row; larger bodies are split into parts of exactly this size and a
// shorter last part.
const BodyPartSize = 1 << 20

// MaxBodyHeads bounds the keys of one BodyHeads call.
const MaxBodyHeads = 1000

// SplitBody reads r to its end in parts of BodyPartSize (the last one
// shorter, or empty when r is) and calls put with each, in order: how
// every driver's PutBody cuts a body into rows.
func SplitBody(r io.Reader, put func(part int, data []byte) error) error {
	buf := make([]byte, BodyPartSize)
	for part := 0; ; part++ {
		n, err := io.ReadFull(r, buf)
		if err == io.EOF && part > 0 {
			return nil
		}
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return fmt.Errorf("read body: %w", err)
		}
		if perr := put(part, buf[:n]); perr != nil {
			return perr
		}
		if err != nil { // a short (or empty) last part
			return nil
		}
	}
}

// Body is a message body (or a part of one) kept in the database.
type Body struct {
	Key  string
	Data []byte
}

// Directory is the read and write access to domains and mailboxes.
type Directory interface {
	// CreateDomain adds a domain with role (DomainHosted or DomainRelay;
	// "" is DomainHosted), DisplayNameClient, no network restriction and
	// inherited limits, in one directory change; ErrConflict if it exists.
	CreateDomain(ctx context.Context, name, role string) (Domain, error)
	// Domains lists all domains by name.
	Domains(ctx context.Context) ([]Domain, error)
	// DeleteDomain removes a domain; ErrNotFound if absent, ErrConflict if it still has mailboxes.
	DeleteDomain(ctx context.Context, name string) error

	// CreateMailbox adds a mailbox with all its fields; its domain must
	// exist (ErrNotFound) and its address must be new, neither a mailbox
	// nor an alias (ErrConflict). ID and timestamps are set from the
	// stored row.
	CreateMailbox(ctx context.Context, m Mailbox) (Mailbox, error)
	// UpdateMailbox writes every settable field (all but ID, Address,
	// Domain and CreatedAt) of the mailbox with m.Address; ErrNotFound if absent.
	UpdateMailbox(ctx context.Context, m Mailbox) error
	// Mailbox returns one mailbox by normalized address.
	Mailbox(ctx context.Context, address string) (Mailbox, error)
	// Mailboxes lists mailboxes by address, of one domain or (domain "") all.
	Mailboxes(ctx context.Context, domain string) ([]Mailbox, error)
	// DeleteMailbox removes a mailbox, its folder references, aliases and
	// app passwords, the grants it holds, the grants on its address and
	// its aliases, and OAuth clients' permission to act as it;
	// ErrNotFound if absent.
	DeleteMailbox(ctx context.Context, address string) error

	// UpdateDomain writes DisplayName, Role, Networks and Limits of the domain
	// named d.Name; ErrNotFound if absent.
	UpdateDomain(ctx context.Context, d Domain) error

	// AddAlias gives the mailbox a further address. ErrNotFound if the
	// mailbox does not exist; ErrConflict if the address is a mailbox's or
	// another alias.
	AddAlias(ctx context.Context, mailbox, alias string) error
	// RemoveAlias removes an alias and the grants on its address;
	// ErrNotFound if absent.
	RemoveAlias(ctx context.Context, alias string) error
	// Aliases lists all aliases by address.
	Aliases(ctx context.Context) ([]Alias, error)

	// AddGrant records a grant; ErrNotFound if the grantee mailbox does not
	// exist, ErrConflict if the same grant exists.
	AddGrant(ctx context.Context, g Grant) (Grant, error)
	// RemoveGrant removes the grant matching Kind, On and Grantee;
	// ErrNotFound if absent.
	RemoveGrant(ctx context.Context, g Grant) error
	// Grants lists all grants ordered by On, then Grantee, then Kind.
	Grants(ctx context.Context) ([]Grant, error)

	// AddAppPassword stores an app password (ID and CreatedAt are set);
	// ErrNotFound if the mailbox does not exist, ErrConflict if the mailbox
	// has one with that label.
	AddAppPassword(ctx context.Context, p AppPassword) (AppPassword, error)
	// RevokeAppPassword deletes one app password; ErrNotFound if absent.
	RevokeAppPassword(ctx context.Context, mailbox, label string) error
	// SetAppPasswordNetworks replaces the networks one app password may
	// be used from (none: wherever its mailbox may); ErrNotFound if absent.
	SetAppPasswordNetworks(ctx context.Context, mailbox, label string, networks []string) error
	// AppPasswords lists the app passwords of one mailbox, or all (mailbox "").
	AppPasswords(ctx context.Context, mailbox string) ([]AppPassword, error)
	// TouchAppPassword records a use. It is not a directory change (the
	// version does not move); ErrNotFound if absent.
	TouchAppPassword(ctx context.Context, id int64, at time.Time, from string) error

	OAuthClients

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
	// FolderPage lists up to limit entries of a mailbox's folder, newest
	// first, after the newest offset; and how many the folder holds.
	FolderPage(ctx context.Context, mailboxID int64, folder Folder, offset, limit int) ([]FolderEntry, int, error)
	// FindFolderEntry returns the newest entry of a mailbox's folder that
	// names message id (Message.ID); ErrNotFound if none does.
	FindFolderEntry(ctx context.Context, mailboxID int64, folder Folder, id string) (FolderEntry, error)
	// MailboxUsage is the sum of the sizes of the mailbox's folder entries.
	MailboxUsage(ctx context.Context, mailboxID int64) (int64, error)
	// ExpireFolderEntries deletes the mailbox's entries of folder created
	// before cutoff and returns how many went.
	ExpireFolderEntries(ctx context.Context, mailboxID int64, folder Folder, cutoff time.Time) (int, error)
	// DeleteUnreferenced deletes up to limit messages that no folder entry
	// references and none of whose queue rows is in a non-final state
	// (anything but delivered or failed), with their queue rows, and returns
	// their blob keys (Blob and DeliveryBlob, each once). The caller removes
	// the blobs after it returns; a crash in between leaves only orphan files.
	DeleteUnreferenced(ctx context.Context, limit int) ([]string, error)

	// SubmissionLog returns the submission records at or after since,
	// oldest first. Accept writes one record per accepted message (its
	// MailboxID, CreatedAt and number of Recipients) in its transaction. A
	// store may have merged records older than a few minutes into one per
	// mailbox and minute (At: the minute's start, Recipients: their sum),
	// returned when any of the minute is at or after since (store/postgres
	// does, for its limit decisions).
	SubmissionLog(ctx context.Context, since time.Time) ([]SubmissionRecord, error)
	// PruneSubmissionLog deletes records older than cutoff.
	PruneSubmissionLog(ctx context.Context, cutoff time.Time) error
}

// Bodies keeps message bodies in the database, for nodes that share no
// filesystem and for small bodies that ride in their acceptance's
// transaction (Acceptance.Bodies).
type Bodies interface {
	// PutBody stores the body named key, read from r, in parts of
	// BodyPartSize, in one transaction: durable when PutBody returns nil.
	// ErrConflict if key exists.
	PutBody(ctx context.Context, key string, r io.Reader) error
	// BodyPart returns part n (from 0) of the body named key;
	// ErrNotFound if the body or that part does not exist.
	BodyPart(ctx context.Context, key string, n int) ([]byte, error)
	// BodyHeads returns, in one read, the first max bytes (at most
	// BodyPartSize) of part 0 of each body named keys (at most
	// MaxBodyHeads of them): what a reader of many message headers needs.
	// A key with no body in the database is absent from the map.
	BodyHeads(ctx context.Context, keys []string, max int) (map[string][]byte, error)
	// DeleteBodies removes the bodies named keys in one transaction; a
	// missing body is not an error.
	DeleteBodies(ctx context.Context, keys []string) error
	// BodyKeys calls fn for every body whose key sorts at or after from,
	// in key order, with the time it was stored.
	BodyKeys(ctx context.Context, from string, fn func(key string, stored time.Time) error) error
	// DeleteOrphanBodies removes the bodies stored before cutoff that no
	// message names (as Blob or DeliveryBlob) and returns how many went:
	// what an acceptance that failed after storing its body on its own,
	// and then failed to remove it, leaves behind.
	DeleteOrphanBodies(ctx context.Context, cutoff time.Time) (int, error)
}

// Store is the whole persistent state. Implementations are safe for
// concurrent use and tolerate other processes using the same database.
type Store interface {
	Directory
	Connectors
	Messages
	Bodies
	Queue
	Folders
	DKIMKeys
	Trace
	APITokens
	Stats
	ConsoleUsers
	// Close releases the database; pending writes are complete when it returns.
	Close() error
}
