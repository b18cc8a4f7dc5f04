package submission

import (
	"fmt"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/policy"
	"mailroom/internal/trace"
)

// This file holds every reply the submission service gives that carries a
// decision: the table of DESIGN.md ("Replies"). The code, the enhanced code,
// any quoted token and the reason are a contract; the text after them may
// improve. replies_test.go pins each one.

// Reply is a reply of the table: what the client is told, and the stable
// reason token the trace and the metrics record for it (as maddy's
// exterrors carry the reason beside the text). The reason never depends on
// the wording: nothing parses Text.
type Reply struct {
	Code     int
	Enhanced smtp.EnhancedCode
	Text     string
	Reason   string // "" for a success
}

// Error is the reply as the client sees it.
func (r *Reply) Error() string {
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, r.Enhanced[0], r.Enhanced[1], r.Enhanced[2], r.Text)
}

// SMTP is the reply in the form go-smtp writes verbatim.
func (r *Reply) SMTP() *smtp.SMTPError {
	return &smtp.SMTPError{Code: r.Code, EnhancedCode: r.Enhanced, Message: r.Text}
}

// EnhancedString is the enhanced code as "5.7.60".
func (r *Reply) EnhancedString() string {
	return fmt.Sprintf("%d.%d.%d", r.Enhanced[0], r.Enhanced[1], r.Enhanced[2])
}

// The reason tokens of replies that are not a policy.Reason. Tokens appear
// in the trace and the metrics; they do not change once released.
const (
	reasonNotAuthenticated     = "not_authenticated"
	reasonNoTLS                = "no_tls"
	reasonMessageTooLarge      = "message_too_large"
	reasonHeaderTooLarge       = "header_too_large"
	reasonBadSenderSyntax      = "bad_sender_syntax"
	reasonBadRecipientSyntax   = "bad_recipient_syntax"
	reasonNoSuchMailbox        = "no_such_mailbox"
	reasonBadSequence          = "bad_sequence"
	reasonMalformedMessage     = "malformed_message"
	reasonConcurrencyLimit     = "concurrency_limit"
	reasonRateLimit            = "rate_limit"
	reasonRecipientsPerMessage = "recipients_per_message"
	reasonDailyRecipientLimit  = "daily_recipient_limit"
	reasonLoginBlocked         = "login_blocked"
	reasonLocalError           = "local_error"
	reasonDataTimeout          = "data_timeout"
	reasonTransferInterrupted  = "transfer_interrupted"
	reasonShuttingDown         = "shutting_down"
	reasonBadHelo              = "bad_helo"
	reasonAuthBusy             = "auth_busy"
	reasonMalformedAuth        = "malformed_auth"
	reasonUnknownMechanism     = "unknown_mechanism"
	reasonConnectionLimit      = "connection_limit"
	reasonConnectionRate       = "connection_rate"
)

func reply(reason string, code int, enh smtp.EnhancedCode, format string, args ...any) *Reply {
	return &Reply{Code: code, Enhanced: enh, Text: fmt.Sprintf(format, args...), Reason: reason}
}

// replyAuthRequired: MAIL before AUTH (DESIGN: 530 5.7.57).
func replyAuthRequired() *Reply {
	return reply(reasonNotAuthenticated, 530, smtp.EnhancedCode{5, 7, 57}, "Client not authenticated to send mail. Log in with AUTH (after STARTTLS on this port) before MAIL FROM; a device that cannot log in needs a connector for its address or certificate (mailroom connector add)")
}

// replyEncryptionRequired: AUTH before TLS (DESIGN: 538 5.7.11, not go-smtp's 523 5.7.10).
func replyEncryptionRequired() *Reply {
	return reply(reasonNoTLS, 538, smtp.EnhancedCode{5, 7, 11}, "Encryption required for requested authentication mechanism. Send STARTTLS first, or connect to the implicit-TLS port")
}

// replyBadCredentials: wrong password or unknown user; one text for both (DESIGN: 535 5.7.3).
func replyBadCredentials() *Reply {
	return reply(string(policy.ReasonBadCredentials), 535, smtp.EnhancedCode{5, 7, 3}, "Authentication unsuccessful")
}

// replyLoginRefused: correct password, but the mailbox may not log in here
// (DESIGN: 535 5.7.139, naming which rule).
func replyLoginRefused(reason policy.Reason, detail string) *Reply {
	return reply(string(reason), 535, smtp.EnhancedCode{5, 7, 139}, "Authentication unsuccessful, %s", detail)
}

// replySendAsDeniedMail: envelope sender not owned or granted, at MAIL (DESIGN: 550 5.7.60).
func replySendAsDeniedMail(reason policy.Reason, detail string) *Reply {
	return reply(string(reason), 550, smtp.EnhancedCode{5, 7, 60}, "SendAsDenied: %s", detail)
}

// replySendAsDeniedData: header sender not owned or granted, after DATA (DESIGN: 554 5.7.60).
func replySendAsDeniedData(reason policy.Reason, detail string) *Reply {
	return reply(string(reason), 554, smtp.EnhancedCode{5, 7, 60}, "SendAsDenied: %s", detail)
}

// replyNullSender: MAIL FROM:<> from a submission client.
func replyNullSender(detail string) *Reply {
	return reply(string(policy.ReasonNullSender), 550, smtp.EnhancedCode{5, 7, 1}, "NullSenderDenied: %s", detail)
}

// replyMessageTooLarge: over submission.max_message_bytes (DESIGN: 552 5.3.4).
// go-smtp gives the same code for SIZE= at MAIL and for oversize DATA.
func replyMessageTooLarge(max int64) *Reply {
	return reply(reasonMessageTooLarge, 552, smtp.EnhancedCode{5, 3, 4}, "Message size exceeds the limit of %d bytes; send a smaller message or ask the administrator to raise submission.max_message_bytes", max)
}

// replyBadSenderSyntax: MAIL FROM address that does not parse (RFC 3463 5.1.7).
func replyBadSenderSyntax(err error) *Reply {
	return reply(reasonBadSenderSyntax, 501, smtp.EnhancedCode{5, 1, 7}, "Bad sender address syntax: %s", trace.Clip(err.Error(), maxTraced))
}

// replyBadRecipientSyntax: RCPT TO address that does not parse (RFC 3463 5.1.3).
func replyBadRecipientSyntax(err error) *Reply {
	return reply(reasonBadRecipientSyntax, 501, smtp.EnhancedCode{5, 1, 3}, "Bad recipient address syntax: %s", trace.Clip(err.Error(), maxTraced))
}

// replyNoSuchMailbox: RCPT TO an address of a served domain that has no mailbox (RFC 3463 5.1.1).
func replyNoSuchMailbox(rcpt string) *Reply {
	return reply(reasonNoSuchMailbox, 550, smtp.EnhancedCode{5, 1, 1}, "No such mailbox: %s is in a domain served here but no mailbox has that address", rcpt)
}

// replyBadMAILOrder: RCPT or DATA without a successful MAIL.
func replyNeedMail() *Reply {
	return reply(reasonBadSequence, 503, smtp.EnhancedCode{5, 5, 1}, "Send MAIL FROM first")
}

// replyMalformedHeader: the message header cannot be parsed (RFC 3463 5.6.0).
func replyMalformedHeader(err error) *Reply {
	return reply(reasonMalformedMessage, 554, smtp.EnhancedCode{5, 6, 0}, "Message not accepted: %s; the message must start with header fields such as From: and Subject:, then a blank line", trace.Clip(err.Error(), maxTraced))
}

// replyOverQuota: the mailbox is at or over its storage quota (DESIGN: 554 5.2.2).
func replyOverQuota(detail string) *Reply {
	return reply(string(policy.ReasonOverQuota), 554, smtp.EnhancedCode{5, 2, 2}, "Mailbox full: %s", detail)
}

// replySenderRequired: several From: addresses and no Sender: (RFC 5322 §3.6.2).
func replySenderRequired(detail string) *Reply {
	return reply(reasonMalformedMessage, 554, smtp.EnhancedCode{5, 6, 0}, "Message not accepted: %s", detail)
}

// replyConcurrency: the mailbox has its limit of transactions in flight
// (DESIGN: 432 4.3.2, with Exchange Online's token).
func replyConcurrency(mailbox string, limit int) *Reply {
	return reply(reasonConcurrencyLimit, 432, smtp.EnhancedCode{4, 3, 2}, "STOREDRV.ClientSubmit; sender thread limit exceeded: %s already has %d messages in transit at once (its limit); retry when one of them finishes", mailbox, limit)
}

// replyRate: the mailbox sent its limit of messages in the last minute
// (DESIGN: 450 4.7.0 with when to retry).
func replyRate(mailbox string, limit int, retryAt, now time.Time) *Reply {
	return reply(reasonRateLimit, 450, smtp.EnhancedCode{4, 7, 0}, "Message rate limit exceeded: %s may send %d messages per minute; retry after %s (in %s)", mailbox, limit, retryAt.UTC().Format(time.RFC3339), waitFor(retryAt, now))
}

// replyTooManyRecipients: past the per-message cap (DESIGN: 452 4.5.3).
func replyTooManyRecipients(limit int) *Reply {
	return reply(reasonRecipientsPerMessage, 452, smtp.EnhancedCode{4, 5, 3}, "Too many recipients: at most %d per message; the recipients already accepted stay, send to the others in another message", limit)
}

// replyDailyDefer: the rolling 24-hour recipient budget is spent
// (DESIGN: transient 452 4.5.3 with when budget returns).
func replyDailyDefer(mailbox string, limit int, retryAt, now time.Time) *Reply {
	return reply(reasonDailyRecipientLimit, 452, smtp.EnhancedCode{4, 5, 3}, "Daily recipient limit reached: %s may send to %d recipients in 24 hours; budget returns from %s (in %s)", mailbox, limit, retryAt.UTC().Format(time.RFC3339), waitFor(retryAt, now))
}

// replyDailyReject: the same, answered as Exchange Online does when
// limits.daily_recipients_exceeded = "reject" (554 5.2.0).
func replyDailyReject(mailbox string, limit int, retryAt time.Time) *Reply {
	return reply(reasonDailyRecipientLimit, 554, smtp.EnhancedCode{5, 2, 0}, "STOREDRV.Submission.Exception:SubmissionQuotaExceededException; %s has sent to its limit of %d recipients in 24 hours; budget returns from %s", mailbox, limit, retryAt.UTC().Format(time.RFC3339))
}

// replyLoginBlocked: too many failed logins (DESIGN: 421 4.7.0, and the
// connection closes).
func replyLoginBlocked(until, now time.Time) *Reply {
	return reply(reasonLoginBlocked, 421, smtp.EnhancedCode{4, 7, 0}, "Too many failed logins from this address; try again after %s (in %s)", until.UTC().Format(time.RFC3339), waitFor(until, now))
}

// replyBareLineEnding: a CR or LF in DATA or BDAT that is not part of a
// CR LF pair (RFC 5321 §2.3.8); refused as the vehicle of SMTP smuggling
// (data.go). The token "BareLineEnding" is stable.
func replyBareLineEnding(which string, line int) *Reply {
	return reply(reasonMalformedMessage, 554, smtp.EnhancedCode{5, 6, 0}, "BareLineEnding: bare %s in line %d of the message; lines must end with CR LF (RFC 5321 §2.3.8), and a bare CR or LF is refused because it enables SMTP smuggling; set the client to send CRLF line endings", which, line)
}

// replyNULByte: a NUL byte in the message (RFC 5322 §3.5, RFC 6152 §3).
// The token "NULByte" is stable.
func replyNULByte(line int) *Reply {
	return reply(reasonMalformedMessage, 554, smtp.EnhancedCode{5, 6, 0}, "NULByte: line %d of the message contains a NUL byte, which mail cannot carry; send binary content as a base64 MIME part", line)
}

// replyLineTooLong: a DATA line longer than the connection's line limit;
// the connection closes after it. The token "LineTooLong" is stable.
func replyLineTooLong(line, max int) *Reply {
	return reply(reasonMalformedMessage, 554, smtp.EnhancedCode{5, 6, 0}, "LineTooLong: line %d of the message is longer than %d octets (RFC 5322 §2.1.1 allows 998); wrap it, or encode the part as quoted-printable or base64", line, max)
}

// replyDataTimeout: the message did not arrive within
// submission.data_timeout; the connection closes after it (RFC 3463 4.4.2).
func replyDataTimeout(limit time.Duration) *Reply {
	return reply(reasonDataTimeout, 421, smtp.EnhancedCode{4, 4, 2}, "Timeout: the message did not arrive within %s (submission.data_timeout); nothing was accepted, send it again", limit)
}

// replyDataAborted: the message transfer broke off (connection lost, or
// RSET between BDAT chunks); nothing was accepted.
func replyDataAborted() *Reply {
	return reply(reasonTransferInterrupted, 451, smtp.EnhancedCode{4, 4, 2}, "Message transfer interrupted before its end; nothing was accepted, send it again")
}

// waitFor is a retry delay rounded up to a whole second.
func waitFor(at, now time.Time) time.Duration {
	d := at.Sub(now)
	if d < time.Second {
		return time.Second
	}
	return d.Round(time.Second)
}

// replyLocalError: the message could not be made durable; nothing was
// accepted and the client should retry (RFC 3463 4.3.0).
func replyLocalError() *Reply {
	return reply(reasonLocalError, 451, smtp.EnhancedCode{4, 3, 0}, "Message not accepted because of a local storage error; nothing was queued, try again later")
}

// replyShuttingDown: the server is stopping; idle connections get it at
// once, busy ones at their next MAIL, and the connection closes (RFC 5321
// §3.8).
func replyShuttingDown() *Reply {
	return reply(reasonShuttingDown, 421, smtp.EnhancedCode{4, 3, 2}, "Service shutting down, try again later")
}

// replyQueued: the message and its queue rows are durable.
func replyQueued(queueID string) *Reply {
	return reply("", 250, smtp.EnhancedCode{2, 0, 0}, "OK queued as %s", queueID)
}

// replyBadHelo: an EHLO or HELO argument that is not a domain or an
// address literal, or is over 255 octets (DESIGN: 501 5.5.4).
func replyBadHelo(detail string) *Reply {
	return reply(reasonBadHelo, 501, smtp.EnhancedCode{5, 5, 4}, "Invalid EHLO argument: %s; send EHLO with the client's fully qualified domain name or an address literal such as [192.0.2.1] (RFC 5321 §4.1.1.1)", detail)
}

// replyHeaderTooLarge: the header is over submission.max_header_bytes
// (DESIGN: 552 5.3.4 naming the limit).
func replyHeaderTooLarge(max int64) *Reply {
	return reply(reasonHeaderTooLarge, 552, smtp.EnhancedCode{5, 3, 4}, "Message header too large: the header fields exceed the limit of %d bytes; send fewer or shorter header fields, or ask the administrator to raise submission.max_header_bytes", max)
}

// replyAuthBusy: the login could not have its password checked within
// submission.hash_wait, because the server (max_concurrent_hashes) or the
// client's address (max_auth_per_address) had too many checks in progress
// (DESIGN: 454 4.7.0). Nothing was counted against the client.
func replyAuthBusy() *Reply {
	return reply(reasonAuthBusy, 454, smtp.EnhancedCode{4, 7, 0}, "Temporary authentication failure: too many password checks in progress; try again in a few seconds")
}

// replyLoginBlockedName: too many failed logins for the user name, from
// any addresses (DESIGN: 421 4.7.0, and the connection closes). Every name
// gets it alike, whether or not a mailbox has it.
func replyLoginBlockedName(until, now time.Time) *Reply {
	return reply(reasonLoginBlocked, 421, smtp.EnhancedCode{4, 7, 0}, "Too many failed logins for this user name; try again after %s (in %s)", until.UTC().Format(time.RFC3339), waitFor(until, now))
}

// replyMalformedAuth: a SASL message that does not parse, or invalid
// base64 in the AUTH exchange (RFC 4954 §4: 501; RFC 3463 5.5.2).
func replyMalformedAuth(what string) *Reply {
	return reply(reasonMalformedAuth, 501, smtp.EnhancedCode{5, 5, 2}, "Malformed AUTH exchange: %s", what)
}

// replyUnknownMechanism: AUTH with a mechanism the server does not offer
// (RFC 4954 §4: 504; RFC 3463 5.5.4).
func replyUnknownMechanism() *Reply {
	return reply(reasonUnknownMechanism, 504, smtp.EnhancedCode{5, 5, 4}, "Unrecognized authentication mechanism; use PLAIN or LOGIN")
}

// replyTooManyConnections: the client's address (IPv6: its /64) has
// submission.max_connections_per_address open; given at connect, then the
// connection closes.
func replyTooManyConnections(limit int) *Reply {
	return reply(reasonConnectionLimit, 421, smtp.EnhancedCode{4, 7, 0}, "Too many connections from your address: at most %d at once (submission.max_connections_per_address); close some and try again", limit)
}

// replyConnectionRate: the client's address (IPv6: its /64) opened
// submission.connection_rate_per_address connections this minute; given at
// connect, then the connection closes.
func replyConnectionRate(limit int, retryAt, now time.Time) *Reply {
	return reply(reasonConnectionRate, 421, smtp.EnhancedCode{4, 7, 0}, "Too many new connections from your address: at most %d a minute (submission.connection_rate_per_address); try again after %s (in %s), or keep one connection open for several messages", limit, retryAt.UTC().Format(time.RFC3339), waitFor(retryAt, now))
}

// The reason token of replyOAuthUnavailable.
const reasonOAuthUnavailable = "oauth_unavailable"

// replyTokenRefused: an OAuth token that does not verify, lacks a
// required scope or role, or may not act as the mailbox asked for; sent
// after the RFC 7628 error challenge (DESIGN: 535 5.7.8). The reason is
// the challenge's status: invalid_token or insufficient_scope.
func replyTokenRefused(reason policy.Reason, detail string) *Reply {
	return reply(string(reason), 535, smtp.EnhancedCode{5, 7, 8}, "Authentication credentials invalid: %s", detail)
}

// replyOAuthUnavailable: the token's issuer could not be asked for its
// signing keys (discovery or JWKS unreachable); nothing was counted
// against the client, who may retry (RFC 3463 4.7.0).
func replyOAuthUnavailable() *Reply {
	return reply(reasonOAuthUnavailable, 454, smtp.EnhancedCode{4, 7, 0}, "Temporary authentication failure: the identity provider's signing keys could not be fetched; try again later")
}
