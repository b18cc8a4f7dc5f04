package imap

import (
	"errors"
	"strings"
	"unicode/utf8"

	"mailroom/internal/store"
)

// Folder names as clients see them. The personal namespace has no prefix;
// the folders of the shared mailboxes a login has full access to are
// under SharedPrefix + address + Delim (RFC 2342 "other users'
// namespace", as Dovecot's "Shared/user@domain/"). INBOX names the Inbox,
// in any case (RFC 9051 §5.1).
const (
	Delim        = '/'
	SharedPrefix = "Shared/"
	inboxName    = "INBOX"
	// maxNameBytes bounds a folder name (Dovecot: 255 per level, 4096 in all).
	maxNameBytes = 512
	// maxNameLevels bounds how deep folders nest.
	maxNameLevels = 16
)

// Name errors.
var (
	errBadName      = errors.New("invalid folder name")
	errReservedName = errors.New("the Shared/ namespace holds shared mailboxes; choose another name")
	errNoSuchShared = errors.New("no shared mailbox of that name is open to this login")
)

// target is a folder a name resolves to: one folder of one mailbox.
type target struct {
	Mailbox *store.Mailbox
	Folder  store.Folder
}

// resolveName maps a client's folder name to the folder it names: a
// folder of own, or, under SharedPrefix, of one of shared (by address).
// Names are checked: valid UTF-8, no empty level, at most maxNameBytes
// and maxNameLevels, no control characters.
func resolveName(name string, own *store.Mailbox, shared []*store.Mailbox) (target, error) {
	if err := checkName(name); err != nil {
		return target{}, err
	}
	if strings.EqualFold(name, inboxName) {
		return target{own, store.FolderInbox}, nil
	}
	if rest, ok := cutFold(name, SharedPrefix); ok {
		addr, folder, ok := strings.Cut(rest, string(Delim))
		if !ok {
			return target{}, errNoSuchShared
		}
		for _, m := range shared {
			if strings.EqualFold(m.Address, addr) {
				if strings.EqualFold(folder, inboxName) {
					return target{m, store.FolderInbox}, nil
				}
				return target{m, store.Folder(folder)}, nil
			}
		}
		return target{}, errNoSuchShared
	}
	if strings.EqualFold(name, strings.TrimSuffix(SharedPrefix, string(Delim))) {
		return target{}, errReservedName
	}
	return target{own, store.Folder(name)}, nil
}

// clientName is the name a client sees for folder f of mailbox m, where
// own is the logged-in mailbox.
func clientName(m *store.Mailbox, f store.Folder, own *store.Mailbox) string {
	n := string(f)
	if f == store.FolderInbox {
		n = inboxName
	}
	if m.ID == own.ID {
		return n
	}
	return SharedPrefix + m.Address + string(Delim) + n
}

// checkName refuses names no folder may have.
func checkName(name string) error {
	if name == "" || len(name) > maxNameBytes || !utf8.ValidString(name) ||
		strings.Count(name, string(Delim)) >= maxNameLevels {
		return errBadName
	}
	for _, level := range strings.Split(name, string(Delim)) {
		if level == "" {
			return errBadName
		}
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '*' || r == '%' {
			return errBadName
		}
	}
	return nil
}

// cutFold is strings.CutPrefix ignoring ASCII case.
func cutFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
