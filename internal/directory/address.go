package directory

import (
	"iter"
	"maps"
	"slices"
	"strings"

	"mailroom/internal/address"
	"mailroom/internal/policy"
	"mailroom/internal/store"
)

// Resolve returns the mailbox that receives mail for addr (canonical
// form): the mailbox of that address, or the owner of that alias, as it
// is, else after removing a +tag when plus-addressing is on. postmaster@
// of a served domain with no such address goes to the postmaster mailbox
// (RFC 5321 §4.5.1 requires it to be accepted).
func (s *Snapshot) Resolve(addr string) (*store.Mailbox, bool) {
	base := policy.StripPlus(addr, s.plusSep)
	for _, a := range []string{addr, base} {
		if m, ok := s.mailboxes[a]; ok {
			return m, true
		}
		if m, ok := s.aliases[a]; ok {
			return m, true
		}
	}
	// The local part is lower case in canonical form, so Postmaster@
	// and POSTMASTER@ arrive here as postmaster@.
	if local, domain, ok := strings.Cut(base, "@"); ok && local == "postmaster" {
		m, ok := s.postmaster[domain]
		return m, ok
	}
	return nil, false
}

// Sender is the policy view of a mailbox: what it owns and the grants it holds.
func (s *Snapshot) Sender(m *store.Mailbox) policy.Sender {
	return policy.Sender{Mailbox: m.Address, Owned: s.owned[m.Address], Grants: s.grants[m.Address],
		PlusSeparator: s.plusSep, Claimed: s.claimed, Target: s.target}
}

// target says what the snapshot holds of addr (canonical form), for the
// hint of a Send As refusal.
func (s *Snapshot) target(addr string) policy.Target {
	if _, ok := s.mailboxes[addr]; ok {
		return policy.TargetHeld
	}
	if _, ok := s.aliases[addr]; ok {
		return policy.TargetHeld
	}
	if _, ok := s.domains[address.DomainOf(addr)]; ok {
		return policy.TargetUnheld
	}
	return policy.TargetForeign
}

// indexAddresses fills the snapshot's claimed addresses and postmaster
// mailboxes from its mailboxes and aliases, and logs what an
// administrator should fix that prev (nil on the first load) did not
// already show.
func (d *Directory) indexAddresses(s *Snapshot, prev *Snapshot) {
	// Admin refuses the separator in mailbox and alias names; a database
	// written before it did may still hold such addresses. Each stays
	// its holder's own (policy.Sender.Claimed).
	for _, addrs := range []iter.Seq[string]{maps.Keys(s.mailboxes), maps.Keys(s.aliases)} {
		for a := range addrs {
			if policy.StripPlus(a, s.plusSep) != a {
				s.claimed = append(s.claimed, a)
			}
		}
	}
	slices.Sort(s.claimed)
	for _, a := range s.claimed {
		if prev == nil || !slices.Contains(prev.claimed, a) {
			d.log.Warn("mailbox or alias address holds addresses.plus_separator: it counts only as itself (it may not send as the address without its tag, nor that address's owner as it); replace it with an address without the separator",
				"address", a, "plus_separator", s.plusSep)
		}
	}

	var configured *store.Mailbox
	if d.postmaster != "" {
		if configured = s.mailboxes[d.postmaster]; configured == nil {
			configured = s.aliases[d.postmaster]
		}
		if configured == nil && (prev == nil || prev.postmasterFound) {
			d.log.Warn("delivery.postmaster names no mailbox or alias here; postmaster@ of each served domain goes to its oldest mailbox",
				"postmaster", d.postmaster)
		}
	}
	s.postmasterFound = configured != nil
	s.postmaster = make(map[string]*store.Mailbox, len(s.domains))
	if configured != nil {
		for dom := range s.domains {
			s.postmaster[dom] = configured
		}
		return
	}
	for _, m := range s.mailboxes {
		if old, ok := s.postmaster[m.Domain]; !ok || m.ID < old.ID {
			s.postmaster[m.Domain] = m
		}
	}
}
