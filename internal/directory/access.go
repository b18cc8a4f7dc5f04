package directory

import "mailroom/internal/store"

// FullAccess returns the mailboxes that the mailbox with id mailboxID may
// open over IMAP by a full-access grant, in the order of the grants' target
// addresses. The mailboxes are the snapshot's: callers must not change
// them.
func (s *Snapshot) FullAccess(mailboxID int64) []*store.Mailbox { return s.full[mailboxID] }
