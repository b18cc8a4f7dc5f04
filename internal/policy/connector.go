package policy

import (
	"net/netip"
	"slices"
	"strings"
)

// Connector is a device's way in without AUTH (DESIGN "connector"): the
// client networks and TLS client certificates it admits, the mailbox they
// then act as, and whether TLS 1.0/1.1 may be negotiated from its networks.
type Connector struct {
	Name    string
	Mailbox string // canonical address
	// Networks are the client address ranges the connector admits.
	Networks []netip.Prefix
	// Fingerprints are the hex SHA-256 digests (lowercase, no colons) of
	// the DER client certificates the connector admits, from any address.
	Fingerprints []string
	// LegacyTLS lets clients in Networks negotiate TLS 1.0 and 1.1.
	LegacyTLS bool
}

// How a client matched a connector, as the trace and the log say it.
const (
	MatchNetwork     = "network"
	MatchCertificate = "certificate"
)

// ConnectorMatch is the connector a client matched and how; Connector is
// nil when none did.
type ConnectorMatch struct {
	Connector *Connector
	By        string // MatchNetwork or MatchCertificate
}

// MatchConnector decides which connector, if any, admits a client at
// remote presenting a TLS client certificate with fingerprint certFP (""
// for none). A certificate match wins over a network match: it names the
// device, an address only where it sits. Among network matches the most
// specific (longest) prefix wins, as Exchange picks the receive connector
// with the most specific remote range; ties go to the first name in
// order, so the answer never depends on the order of cs.
func MatchConnector(cs []Connector, remote netip.Addr, certFP string) ConnectorMatch {
	remote = remote.Unmap()
	certFP = NormalizeFingerprint(certFP)
	var best ConnectorMatch
	bestBits := -1
	for i := range cs {
		c := &cs[i]
		if certFP != "" && slices.Contains(c.Fingerprints, certFP) {
			if best.By != MatchCertificate || c.Name < best.Connector.Name {
				best = ConnectorMatch{Connector: c, By: MatchCertificate}
			}
			continue
		}
		if best.By == MatchCertificate || !remote.IsValid() {
			continue
		}
		for _, p := range c.Networks {
			if !p.Contains(remote) {
				continue
			}
			if b := p.Bits(); b > bestBits || (b == bestBits && c.Name < best.Connector.Name) {
				best, bestBits = ConnectorMatch{Connector: c, By: MatchNetwork}, b
			}
		}
	}
	return best
}

// LegacyTLS decides whether a client at remote may negotiate TLS 1.0 or
// 1.1: only when the connector its address matches (MatchConnector, by
// network: the version is chosen before any certificate is seen) allows
// it. It returns that connector's name, or "" when TLS 1.2 is the minimum.
func LegacyTLS(cs []Connector, remote netip.Addr) string {
	m := MatchConnector(cs, remote, "")
	if m.Connector == nil || !m.Connector.LegacyTLS {
		return ""
	}
	return m.Connector.Name
}

// NormalizeFingerprint is a SHA-256 fingerprint in the form connectors
// store: lowercase hex without separators ("AB:CD:…" as browsers and
// openssl print it, or with spaces, becomes "abcd…").
func NormalizeFingerprint(fp string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(fp)))
}
