package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Grant kinds, as the CLI spells them.
const (
	GrantSendAs       = "send-as"
	GrantSendOnBehalf = "send-on-behalf"
)

// Grant is a right held by the authenticated mailbox: to send as, or on
// behalf of, one address (On) or a whole domain (On is "@domain").
type Grant struct {
	Kind string // GrantSendAs or GrantSendOnBehalf
	On   string
}

// Via says by which right a mailbox may use an address.
type Via int

// The ways a mailbox may use an address, weakest last.
const (
	ViaNone         Via = iota // not allowed
	ViaOwn                     // its own address, an alias, or a plus-address of either
	ViaSendAs                  // a send-as grant: nothing shows the delegate
	ViaSendOnBehalf            // a send-on-behalf grant: Sender: names the delegate
)

// Target is what the directory holds of an address a mailbox was refused,
// so that the refusal suggests only a fix that works.
type Target int

// What an address can be to the directory.
const (
	TargetUnknown Target = iota // not said: the refusal names the grant
	TargetHeld                  // a mailbox or alias here: a grant allows it
	TargetUnheld                // in a served domain, but no mailbox or alias
	TargetForeign               // not in a served domain: no grant can allow it
)

// Sender is the authenticated mailbox whose right to use addresses is
// decided, with everything it owns and holds.
type Sender struct {
	Mailbox string   // normalized address the client logged in as
	Owned   []string // aliases: further normalized addresses it owns
	Grants  []Grant  // grants held by the mailbox
	// PlusSeparator, when not empty, makes local+tag@domain count as
	// local@domain (RFC 5233 subaddressing).
	PlusSeparator string
	// Claimed are addresses the directory holds (mailboxes and aliases)
	// whose local part contains PlusSeparator: each is its holder's own
	// address, never a tagged form of another.
	Claimed []string
	// Target, when not nil, says what the directory holds of a refused
	// address (normalized), for the refusal's hint.
	Target func(addr string) Target
}

// Via returns how s may use the normalized address addr, and the grant
// that allows it (zero for ViaOwn and ViaNone). A send-as grant wins over
// send-on-behalf when both apply, since it needs no Sender:.
//
// Only the tag of addr is ever removed, and only when addr is not itself
// an address the directory holds (Claimed): the mailbox's own address
// and its aliases compare exactly. So alice+bot@ owns alice+bot@ and
// never alice@, and alice@ owns alice+news@ but not a mailbox named
// alice+bot@.
func (s Sender) Via(addr string) (Via, Grant) {
	if s.owns(addr) {
		return ViaOwn, Grant{}
	}
	base := s.base(addr)
	if base != addr && s.owns(base) {
		return ViaOwn, Grant{}
	}
	best, bestGrant := ViaNone, Grant{}
	domain := "@" + addr[strings.LastIndexByte(addr, '@')+1:]
	for _, g := range s.Grants {
		if g.On != addr && g.On != base && g.On != domain {
			continue
		}
		var v Via
		switch g.Kind {
		case GrantSendAs:
			v = ViaSendAs
		case GrantSendOnBehalf:
			v = ViaSendOnBehalf
		default: // full access opens folders; it sends nothing
			continue
		}
		if best == ViaNone || v < best {
			best, bestGrant = v, g
		}
	}
	return best, bestGrant
}

// owns reports whether addr is exactly the mailbox's address or one of
// its aliases.
func (s Sender) owns(addr string) bool {
	return addr == s.Mailbox || slices.Contains(s.Owned, addr)
}

// base is the address addr is a tagged form of: addr without its tag,
// or addr itself when it has none or the directory holds it as it is.
func (s Sender) base(addr string) string {
	if slices.Contains(s.Claimed, addr) {
		return addr
	}
	return StripPlus(addr, s.PlusSeparator)
}

// StripPlus removes a +tag from the local part of a normalized address
// (alice+news@example.com → alice@example.com). An empty separator, or
// one at the very start of the local part, changes nothing.
func StripPlus(addr, sep string) string {
	if sep == "" {
		return addr
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	i := strings.Index(addr[:at], sep)
	if i <= 0 {
		return addr
	}
	return addr[:i] + addr[at:]
}

// EnvelopeSender decides whether the authenticated mailbox may use addr
// (normalized) as the MAIL FROM reverse path. An empty addr is the null
// reverse path, which is reserved for delivery status notifications.
func EnvelopeSender(s Sender, addr string) Decision {
	if addr == "" {
		return Deny(ReasonNullSender, "the null reverse path MAIL FROM:<> is reserved for delivery status notifications; submit with MAIL FROM:<"+s.Mailbox+">")
	}
	if v, _ := s.Via(addr); v == ViaNone {
		return denySendAs(s, addr)
	}
	return Allowed()
}

// HeaderDecision is the outcome of the header sender check.
type HeaderDecision struct {
	Decision
	// AddSender, when not empty, is the address of the Sender: field to
	// add (send-on-behalf without a Sender: field).
	AddSender string
	// Vias are how each From: address was allowed, in order.
	Vias []Via
}

// HeaderSenders decides whether the authenticated mailbox may send a
// message whose From: header holds from (normalized addresses, at least
// one) and whose Sender: header holds sender ("" when absent).
//
// Every From: address must be owned or granted. When one is used by a
// send-on-behalf grant, Sender: must be the mailbox itself: it is added
// when missing and refused when it names anyone else. Several From:
// addresses need a Sender: (RFC 5322 §3.6.2).
func HeaderSenders(s Sender, from []string, sender string) HeaderDecision {
	d := HeaderDecision{Vias: make([]Via, len(from))}
	onBehalf := ""
	for i, f := range from {
		v, _ := s.Via(f)
		if v == ViaNone {
			d.Decision = denySendAs(s, f)
			return d
		}
		d.Vias[i] = v
		if v == ViaSendOnBehalf && onBehalf == "" {
			onBehalf = f
		}
	}
	if sender != "" {
		v, _ := s.Via(sender)
		if v == ViaNone {
			d.Decision = denySendAs(s, sender)
			return d
		}
		if onBehalf != "" && v != ViaOwn {
			d.Decision = Deny(ReasonSenderMismatch, fmt.Sprintf("%s may send on behalf of %s only as itself, but the Sender: header names %s; remove Sender: (mailroom adds Sender: <%s>) or set it to <%s>", s.Mailbox, onBehalf, sender, s.Mailbox, s.Mailbox))
			return d
		}
	}
	if onBehalf != "" && sender == "" {
		d.AddSender = s.Mailbox
		sender = s.Mailbox
	}
	if len(from) > 1 && sender == "" {
		d.Decision = Deny(ReasonMultipleFromNoSnd, fmt.Sprintf("the From: header lists %d addresses, so RFC 5322 §3.6.2 requires a Sender: header; add Sender: <%s>", len(from), s.Mailbox))
		return d
	}
	d.Decision = Allowed()
	return d
}

// denySendAs is the refusal of an address that is neither owned nor
// granted; it names the fix that would allow it, and only one that can
// work: an outside address cannot be granted at all, and one of a served
// domain must exist before it is granted.
func denySendAs(s Sender, addr string) Decision {
	t := TargetUnknown
	if s.Target != nil {
		t = s.Target(s.base(addr))
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	var text string
	switch t {
	case TargetForeign:
		text = fmt.Sprintf("%s is not allowed to send as %s, and no grant can allow it: %s is not a domain this server serves; send from an address of a domain served here, such as %s",
			s.Mailbox, addr, domain, s.Mailbox)
	case TargetUnheld:
		text = fmt.Sprintf("%s is not allowed to send as %s, which is no mailbox or alias here; an administrator can create it and grant it: mailroom mailbox add %s --shared, then mailroom grant send-as --on %s --to %s (or grant the whole domain with --on @%s)",
			s.Mailbox, addr, s.base(addr), s.base(addr), s.Mailbox, domain)
	default:
		text = fmt.Sprintf("%s is not allowed to send as %s; an administrator can allow it with: mailroom grant send-as --on %s --to %s (or send-on-behalf, which shows %s in Sender:)",
			s.Mailbox, addr, s.base(addr), s.Mailbox, s.Mailbox)
	}
	return Deny(ReasonSendAsDenied, text)
}

// CopyTarget is a mailbox whose address a message was sent as (From:)
// by a grant, with its Sent Items settings.
type CopyTarget struct {
	Mailbox          string
	Via              Via
	CopySentAs       bool
	CopySentOnBehalf bool
}

// SentCopies returns the mailboxes that get a Sent Items copy: the
// authenticated mailbox unless saveSent is off, and each granted mailbox
// that asks for copies of mail sent as / on behalf of it. No mailbox is
// listed twice.
func SentCopies(mailbox string, saveSent bool, targets []CopyTarget) []string {
	var out []string
	add := func(m string) {
		for _, o := range out {
			if o == m {
				return
			}
		}
		out = append(out, m)
	}
	if saveSent {
		add(mailbox)
	}
	for _, t := range targets {
		if t.Mailbox == mailbox {
			continue // its own copy follows saveSent
		}
		if (t.Via == ViaSendAs && t.CopySentAs) || (t.Via == ViaSendOnBehalf && t.CopySentOnBehalf) {
			add(t.Mailbox)
		}
	}
	return out
}
