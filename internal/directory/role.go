package directory

import (
	"mailroom/internal/address"
	"mailroom/internal/store"
)

// A domain's role says where mail to its addresses goes: a hosted
// domain's into local Inboxes, a relay domain's (whose mail lives
// upstream) by the domain's route, whether or not a mailbox here has the
// address.

// Hosts reports whether domain (canonical form) is served and hosted:
// mailroom knows every address of it, and delivers to them locally.
func (s *Snapshot) Hosts(domain string) bool { return hosted(s.domains[domain]) }

// Inbox returns the mailbox whose local Inbox receives mail for addr
// (canonical form): Resolve's in a hosted domain, none elsewhere.
func (s *Snapshot) Inbox(addr string) (*store.Mailbox, bool) {
	if !s.Hosts(address.DomainOf(addr)) {
		return nil, false
	}
	return s.Resolve(addr)
}

// hosted reports whether d is a served domain whose mail mailroom
// delivers locally (any role but store.DomainRelay).
func hosted(d *store.Domain) bool { return d != nil && d.Role != store.DomainRelay }
