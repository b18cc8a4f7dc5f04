package policy

import (
	"fmt"
	"net/netip"
	"strings"
)

// Account is what the login decision needs to know of a mailbox and of the
// connection.
type Account struct {
	Address  string
	Domain   string
	Exists   bool // the user name names a mailbox
	Shared   bool
	SMTPAuth bool
	// Service is what the login is for: SMTP submission (the zero value)
	// checks SMTPAuth, IMAP checks IMAP.
	Service Service
	IMAP    bool // IMAP allowed for this mailbox

	Remote netip.Addr // the client's address
	// Network restrictions; an empty list allows every address.
	DomainNetworks  []netip.Prefix
	MailboxNetworks []netip.Prefix
	// AppPassword is the label of the app password used ("" for the
	// mailbox password), and AppNetworks its own restriction.
	AppPassword string
	AppNetworks []netip.Prefix
}

// Service names what a login is for.
type Service int

// The services a mailbox logs in to.
const (
	ServiceSMTP Service = iota // SMTP submission
	ServiceIMAP                // IMAP
)

// Login decides whether a login may proceed. passwordOK says whether the
// password matched. Whether SMTP AUTH is off, the mailbox is shared, or the
// network is not allowed is only revealed to a client that proved the
// password (DESIGN rule 2), so an unknown user and a wrong password look
// alike. An IMAP login checks the IMAP switch instead of SMTP AUTH; the
// network restrictions apply to both.
func Login(a Account, passwordOK bool) Decision {
	if !a.Exists || !passwordOK {
		return Deny(ReasonBadCredentials, "")
	}
	if a.Shared {
		return Deny(ReasonSharedMailbox, fmt.Sprintf("%s is a shared mailbox and cannot log in; log in as a user mailbox that has a send-as grant on it", a.Address))
	}
	service := "SMTP submission"
	if a.Service == ServiceIMAP {
		service = "IMAP"
		if !a.IMAP {
			return Deny(ReasonIMAPDisabled, fmt.Sprintf("IMAP is disabled for %s; an administrator can enable it with: mailroom mailbox set %s --imap=on", a.Address, a.Address))
		}
	} else if !a.SMTPAuth {
		return Deny(ReasonSMTPAuthDisabled, fmt.Sprintf("SMTP AUTH is disabled for %s; an administrator can enable it with: mailroom mailbox set %s --smtp-auth=on", a.Address, a.Address))
	}
	for _, r := range []struct {
		nets      []netip.Prefix
		what, fix string
	}{
		{a.DomainNetworks, "domain " + a.Domain, "mailroom domain set " + a.Domain + " --networks"},
		{a.MailboxNetworks, "mailbox " + a.Address, "mailroom mailbox set " + a.Address + " --networks"},
		{a.AppNetworks, "app password " + a.AppPassword + " of " + a.Address, "mailroom app-password revoke " + a.Address + " " + a.AppPassword + ", then add it again with --networks"},
	} {
		if len(r.nets) > 0 && !Contains(r.nets, a.Remote) {
			return Deny(ReasonNetworkNotAllowed, fmt.Sprintf("network not allowed: %s for %s is allowed only from %s, and this connection comes from %s; an administrator can change it with: %s",
				service, r.what, joinPrefixes(r.nets), a.Remote.Unmap(), r.fix))
		}
	}
	return Allowed()
}

// Contains reports whether addr lies in one of nets.
func Contains(nets []netip.Prefix, addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, n := range nets {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

func joinPrefixes(nets []netip.Prefix) string {
	s := make([]string, len(nets))
	for i, n := range nets {
		s[i] = n.String()
	}
	return strings.Join(s, ", ")
}

// ParsePrefixes parses CIDR prefixes (masked), skipping unreadable ones
// (admin validates them on the way in).
func ParsePrefixes(nets []string) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range nets {
		if p, err := netip.ParsePrefix(n); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}
