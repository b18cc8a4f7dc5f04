package submission

import (
	"crypto/tls"
	"fmt"
	"net/netip"

	"mailroom/internal/policy"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// reasonNoCommand is the reason token of a session that ended after EHLO
// without AUTH or MAIL.
const reasonNoCommand = "no_command"

// traceNoCommand records, at the end of a session, that the client said
// EHLO and then neither AUTH nor MAIL: the trace of a device that gave up
// on what EHLO offered it, instead of a session with nothing in it. A
// session that ended in STARTTLS, or in a TLS handshake the trace
// already shows (tls_failed), is not one.
func (s *Session) traceNoCommand() {
	if s.acted {
		return
	}
	if _, isTLS := s.c.Conn().(*tls.Conn); isTLS && !s.tls {
		return // STARTTLS succeeded: the session goes on under TLS
	}
	if !s.tls && s.tc.tlsw.phase.Load() != hsNone {
		return // STARTTLS was tried and failed: traced as tls_failed
	}
	remote := remoteAddr(s.c)
	s.log.Info("session ended without AUTH or MAIL")
	s.traceEvent(store.TraceEvent{Kind: trace.KindEnded, Status: trace.StatusNoCommand, Reason: reasonNoCommand, Attempt: true,
		Detail: noCommandDetail(s.tls, remote, s.b.connectors())})
}

// noCommandDetail says what a client that sent no command after EHLO was
// offered, and what a device that wanted something else needs.
func noCommandDetail(isTLS bool, remote netip.Addr, cs []policy.Connector) string {
	const head = "the client ended the session after EHLO without AUTH or MAIL. "
	if m := policy.MatchConnector(cs, remote, ""); m.Connector != nil {
		return head + fmt.Sprintf("Its address matches connector %s, so it could have sent MAIL without AUTH as %s", m.Connector.Name, m.Connector.Mailbox)
	}
	fix := fmt.Sprintf("a device that does not log in needs a connector for its address: mailroom connector add NAME --mailbox ADDRESS --networks %s", hostPrefix(remote))
	if !isTLS {
		return head + "EHLO offered STARTTLS and no AUTH (AUTH is offered only under TLS): a device that cannot use STARTTLS, or " + fix
	}
	return head + "EHLO offered AUTH: " + fix
}

// hostPrefix is the prefix naming addr alone: /32, or /128 for IPv6.
func hostPrefix(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	return netip.PrefixFrom(addr, addr.BitLen())
}
