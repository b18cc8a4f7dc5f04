package store

import (
	"context"
	"errors"
	"time"
)

// ErrOverQuota is returned when a write would take a mailbox over its
// storage quota (Mailbox.QuotaBytes).
var ErrOverQuota = errors.New("over quota")

// Special-use attributes of folders (RFC 6154) mailroom sets itself.
const SpecialUseSent = `\Sent`

// FolderSeparator is the hierarchy separator of folder names: "a/b" is
// folder b inside folder a.
const FolderSeparator = "/"

// FolderInfo is one folder of a mailbox as IMAP sees it.
type FolderInfo struct {
	MailboxID int64
	Name      Folder
	// UIDValidity names this folder's UID numbering; a folder deleted and
	// created again has another.
	UIDValidity uint32
	UIDNext     uint32 // the UID the next entry gets
	// Changes moves with every new entry, flag change and expunge.
	Changes    int64
	SpecialUse string // RFC 6154 attribute (`\Sent`), or ""
	Subscribed bool
	Messages   int   // entries (Folders and Folder count them)
	Size       int64 // sum of the entries' sizes
}

// FolderState is what FolderStates returns of one folder: enough to tell
// that it changed.
type FolderState struct {
	MailboxID int64
	Name      Folder
	UIDNext   uint32
	Changes   int64
}

// UIDRange is the UIDs Start to Stop, both included.
type UIDRange struct{ Start, Stop uint32 }

// FlagOp says how SetFlags applies its flags.
type FlagOp int

// The ways SetFlags changes flags.
const (
	FlagsReplace FlagOp = iota // the entries' flags become the given ones
	FlagsAdd                   // the given flags are added
	FlagsRemove                // the given flags are removed
)

// CopyResult pairs the UIDs copied (or moved) from a folder with the UIDs
// they got in the target, in ascending source order.
type CopyResult struct {
	UIDValidity uint32 // the target's
	Source      []uint32
	Dest        []uint32
}

// Appended is a message APPENDed by a client: a message row with no queue
// rows and one entry in Entry's folder, written in one transaction.
type Appended struct {
	Message Message
	Entry   FolderEntry // MailboxID, Folder and Flags; the rest comes from Message
	Bodies  []Body      // written in the same transaction, as Acceptance.Bodies
	// QuotaBytes, when not 0, refuses the append with ErrOverQuota when the
	// mailbox's usage and the message would exceed it.
	QuotaBytes int64
}

// Folders is what IMAP needs of a mailbox's folders. Entries are numbered
// by UID per folder, ascending in the order their writes commit; the
// folder's UIDValidity names that numbering. Folder names are compared as
// stored (callers map IMAP's INBOX to FolderInbox).
type Folders interface {
	// EnsureFolder makes the folder if it does not exist (with specialUse),
	// and returns it.
	EnsureFolder(ctx context.Context, mailboxID int64, name Folder, specialUse string) (FolderInfo, error)
	// CreateFolder makes a folder; ErrConflict if it exists, ErrNotFound if
	// the mailbox does not.
	CreateFolder(ctx context.Context, mailboxID int64, name Folder, specialUse string) (FolderInfo, error)
	// Folders lists the folders of a mailbox by name, with their counts.
	Folders(ctx context.Context, mailboxID int64) ([]FolderInfo, error)
	// Folder returns one folder with its counts; ErrNotFound if absent.
	Folder(ctx context.Context, mailboxID int64, name Folder) (FolderInfo, error)
	// RenameFolder renames a folder and the folders inside it (names
	// starting with old and FolderSeparator), entries and all, in one
	// transaction; ErrNotFound if old is absent, ErrConflict if a new name
	// exists.
	RenameFolder(ctx context.Context, mailboxID int64, old, new Folder) error
	// DeleteFolder removes a folder and its entries; ErrNotFound if absent.
	DeleteFolder(ctx context.Context, mailboxID int64, name Folder) error
	// SubscribeFolder sets whether the folder is subscribed; ErrNotFound if absent.
	SubscribeFolder(ctx context.Context, mailboxID int64, name Folder, on bool) error
	// FolderMessages lists the entries of a folder by UID, with flags.
	FolderMessages(ctx context.Context, mailboxID int64, name Folder) ([]FolderEntry, error)
	// SetFlags changes the flags of the folder's entries in uids (at most
	// MaxUIDRanges ranges) and returns the entries it changed, by UID.
	SetFlags(ctx context.Context, mailboxID int64, name Folder, uids []UIDRange, op FlagOp, flags []string) ([]FolderEntry, error)
	// Expunge removes the folder's entries flagged \Deleted, only those in
	// uids when uids is not nil, and returns their UIDs ascending. The
	// messages they named stay until DeleteUnreferenced finds them
	// unreferenced.
	Expunge(ctx context.Context, mailboxID int64, name Folder, uids []UIDRange) ([]uint32, error)
	// CopyEntries copies the entries of uids in folder from to folder to
	// of mailbox toMailbox (which must exist: ErrNotFound), with their
	// flags, and removes them from the source when move is true, in one
	// transaction. A quota (when not 0) that the copies would exceed is
	// ErrOverQuota (a move within one mailbox is never refused).
	CopyEntries(ctx context.Context, mailboxID int64, from Folder, uids []UIDRange, toMailbox int64, to Folder, move bool, quota int64) (CopyResult, error)
	// AppendMessage writes an appended message and its entry; durable on
	// return. It returns the entry with its UID.
	AppendMessage(ctx context.Context, a Appended) (FolderEntry, error)
	// SentCopy returns the newest entry of the mailbox's Sent Items that
	// mailroom made (not appended) at or after since of a message whose
	// Message-ID header is messageID; ErrNotFound if there is none.
	SentCopy(ctx context.Context, mailboxID int64, messageID string, since time.Time) (FolderEntry, error)
	// FolderStates returns the state of every folder of the mailboxes:
	// one cheap query, for IDLE and NOOP.
	FolderStates(ctx context.Context, mailboxIDs []int64) ([]FolderState, error)
}

// MaxUIDRanges bounds the UID ranges of one SetFlags, Expunge or
// CopyEntries.
const MaxUIDRanges = 10000
