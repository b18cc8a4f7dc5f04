package policy

import "fmt"

// Account is what the login decision needs to know of a mailbox.
type Account struct {
	Address  string
	Exists   bool // the user name names a mailbox
	Shared   bool
	SMTPAuth bool
}

// Login decides whether a login may proceed. passwordOK says whether the
// password matched the mailbox's hash. Whether SMTP AUTH is off, or the
// mailbox is shared, is only revealed to a client that proved the password
// (DESIGN rule 2), so an unknown user and a wrong password look alike.
func Login(a Account, passwordOK bool) Decision {
	if !a.Exists || !passwordOK {
		return Deny(ReasonBadCredentials, "")
	}
	if a.Shared {
		return Deny(ReasonSharedMailbox, fmt.Sprintf("%s is a shared mailbox and cannot log in; log in as a user mailbox that has a send-as grant on it", a.Address))
	}
	if !a.SMTPAuth {
		return Deny(ReasonSMTPAuthDisabled, fmt.Sprintf("SMTP AUTH is disabled for %s; an administrator can enable it with: mailroom mailbox set %s --smtp-auth=on", a.Address, a.Address))
	}
	return Allowed()
}
