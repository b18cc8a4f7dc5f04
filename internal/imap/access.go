package imap

import (
	"mailroom/internal/directory"
	"mailroom/internal/store"
)

// imapEnabled reports whether the mailbox may use IMAP (mailbox set
// --imap=on|off, as Exchange's ImapEnabled).
func imapEnabled(mb *store.Mailbox) bool { return mb.IMAP }

// fullAccess lists the shared mailboxes mb may open: those a full-access
// grant names (grant full-access --on SHARED --to MAILBOX).
func fullAccess(snap *directory.Snapshot, mb *store.Mailbox) []*store.Mailbox {
	return snap.FullAccess(mb.ID)
}
