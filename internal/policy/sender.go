package policy

import "fmt"

// Sender is the authenticated mailbox whose right to use addresses is
// decided: its own address and any others it owns.
type Sender struct {
	Mailbox string   // normalized address the client logged in as
	Owned   []string // further normalized addresses the mailbox owns (aliases)
}

// owns reports whether addr is the mailbox's own address or one it owns.
func (s Sender) owns(addr string) bool {
	if addr == s.Mailbox {
		return true
	}
	for _, o := range s.Owned {
		if o == addr {
			return true
		}
	}
	return false
}

// EnvelopeSender decides whether the authenticated mailbox may use addr
// (normalized) as the MAIL FROM reverse path. An empty addr is the null
// reverse path, which is reserved for delivery status notifications.
func EnvelopeSender(s Sender, addr string) Decision {
	if addr == "" {
		return Deny(ReasonNullSender, "the null reverse path MAIL FROM:<> is reserved for delivery status notifications; submit with MAIL FROM:<"+s.Mailbox+">")
	}
	return sendAs(s, addr)
}

// HeaderSenders decides whether the authenticated mailbox may send a
// message whose From: header holds from (normalized addresses, at least
// one) and whose Sender: header holds sender ("" when absent).
func HeaderSenders(s Sender, from []string, sender string) Decision {
	for _, f := range from {
		if d := sendAs(s, f); !d.Allow {
			return d
		}
	}
	if len(from) > 1 && sender == "" {
		return Deny(ReasonMultipleFromNoSnd, fmt.Sprintf("the From: header lists %d addresses, so RFC 5322 §3.6.2 requires a Sender: header; add Sender: <%s>", len(from), s.Mailbox))
	}
	if sender != "" {
		return sendAs(s, sender)
	}
	return Allowed()
}

// sendAs is the ownership rule shared by envelope and header checks.
func sendAs(s Sender, addr string) Decision {
	if s.owns(addr) {
		return Allowed()
	}
	return Deny(ReasonSendAsDenied, fmt.Sprintf("%s is not allowed to send as %s; an administrator can allow it with: mailroom grant send-as --on %s --to %s", s.Mailbox, addr, addr, s.Mailbox))
}
