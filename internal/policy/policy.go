// Package policy owns mailroom's decisions as pure functions over plain
// values: may this login proceed, may this mailbox send as this address.
// Nothing here does I/O or reads a clock; callers gather the facts (from the
// directory, the connection) and turn the Decision into a reply.
package policy

// Reason is a stable token naming why a decision refused. Tokens appear in
// logs and the trace; they do not change once released.
type Reason string

// The reasons a decision can give.
const (
	ReasonNone              Reason = ""
	ReasonBadCredentials    Reason = "bad_credentials"         // unknown user or wrong password
	ReasonSMTPAuthDisabled  Reason = "smtp_auth_disabled"      // correct password, SMTP AUTH off for the mailbox
	ReasonSharedMailbox     Reason = "shared_mailbox"          // correct password, but shared mailboxes cannot log in
	ReasonSendAsDenied      Reason = "send_as_denied"          // address neither owned nor granted
	ReasonNullSender        Reason = "null_sender"             // MAIL FROM:<> from a submission client
	ReasonMultipleFromNoSnd Reason = "multiple_from_no_sender" // several From: addresses and no Sender:
	ReasonSenderMismatch    Reason = "sender_mismatch"         // send-on-behalf with a Sender: naming someone else
	ReasonOverQuota         Reason = "over_quota"              // the mailbox is at or over its storage quota
	ReasonNetworkNotAllowed Reason = "network_not_allowed"     // correct password from a network the domain, mailbox or app password excludes
	ReasonIMAPDisabled      Reason = "imap_disabled"           // correct password, IMAP off for the mailbox
)

// Decision is the outcome of one policy question. When Allow is false,
// Reason says why and Detail explains it for the client and the
// administrator, naming the fix where there is one.
type Decision struct {
	Allow  bool
	Reason Reason
	Detail string
}

// Allowed is the Decision that lets the action proceed.
func Allowed() Decision { return Decision{Allow: true} }

// Deny is a refusing Decision.
func Deny(r Reason, detail string) Decision { return Decision{Reason: r, Detail: detail} }
