package submission

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"mailroom/internal/policy"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// admitConnector binds the session to the mailbox of the connector the
// client matches (policy.MatchConnector: its TLS client certificate, or
// its address), if any, at its first MAIL without AUTH. From then on the
// session is that mailbox's exactly as after a login (s.mailbox, the one
// thing AUTH sets too): its senders, limits, Sent Items copy, DKIM and
// trace. The trace names the connector.
func (s *Session) admitConnector() {
	fp := s.clientCertificate()
	m := policy.MatchConnector(s.b.connectors(), remoteAddr(s.c), fp)
	if m.Connector == nil {
		return
	}
	c := m.Connector
	s.mailbox, s.connector = c.Mailbox, c.Name
	s.log = s.log.With("mailbox", s.mailbox, "connector", c.Name)
	s.log.Info("connector", "by", m.By)
	detail := fmt.Sprintf("connector=%s by=%s: the client sends without AUTH as %s", c.Name, m.By, c.Mailbox)
	if m.By == policy.MatchCertificate {
		detail += " (client certificate sha256 " + fp + ")"
	}
	s.traceEvent(store.TraceEvent{Kind: trace.KindAuth, Command: "MAIL", Detail: detail})
}

// clientCertificate is the SHA-256 fingerprint (lowercase hex) of the TLS
// client certificate the client presented, or "" for none.
func (s *Session) clientCertificate() string {
	st, ok := s.c.TLSConnectionState()
	if !ok || len(st.PeerCertificates) == 0 {
		return ""
	}
	sum := sha256.Sum256(st.PeerCertificates[0].Raw)
	return strings.ToLower(hex.EncodeToString(sum[:]))
}
