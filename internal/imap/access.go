package imap

import (
	"mailroom/internal/directory"
	"mailroom/internal/store"
)

// imapEnabled reports whether the mailbox may use IMAP.
func imapEnabled(mb *store.Mailbox) bool { return true }

// fullAccess lists the shared mailboxes mb may open.
func fullAccess(snap *directory.Snapshot, mb *store.Mailbox) []*store.Mailbox { return nil }
