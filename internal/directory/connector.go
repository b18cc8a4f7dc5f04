package directory

import (
	"mailroom/internal/policy"
	"mailroom/internal/store"
)

// Store is what the directory reads: domains, mailboxes, credentials and
// grants, and the connectors.
type Store interface {
	store.Directory
	store.Connectors
}

// Connectors returns the connectors, by name, with their networks parsed
// (policy.MatchConnector decides which one a client matches). The slice
// is shared: callers must not modify it.
func (s *Snapshot) Connectors() []policy.Connector { return s.connectors }

// connectors turns the stored connectors into policy's.
func (d *Directory) connectors(cs []store.Connector) []policy.Connector {
	out := make([]policy.Connector, 0, len(cs))
	for _, c := range cs {
		fps := make([]string, 0, len(c.Fingerprints))
		for _, fp := range c.Fingerprints {
			fps = append(fps, policy.NormalizeFingerprint(fp))
		}
		out = append(out, policy.Connector{Name: c.Name, Mailbox: c.Mailbox, Networks: d.parseNets("connector "+c.Name, c.Networks),
			Fingerprints: fps, LegacyTLS: c.LegacyTLS})
	}
	return out
}
