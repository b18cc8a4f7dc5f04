package submission

import (
	"fmt"
	"testing"
	"time"

	"mailroom/internal/policy"
)

// TestReplyReasons pins the trace token of every refusing reply. The
// token is carried with the reply, so it holds whatever the text says:
// the cases with a policy reason pass text that would have misled the old
// text matching.
func TestReplyReasons(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		want string
		r    *Reply
	}{
		{"not_authenticated", replyAuthRequired()},
		{"no_tls", replyEncryptionRequired()},
		{"bad_credentials", replyBadCredentials()},
		{"smtp_auth_disabled", replyLoginRefused(policy.ReasonSMTPAuthDisabled, "network not allowed")},
		{"network_not_allowed", replyLoginRefused(policy.ReasonNetworkNotAllowed, "SMTP AUTH is disabled")},
		{"shared_mailbox", replyLoginRefused(policy.ReasonSharedMailbox, "x")},
		{"send_as_denied", replySendAsDeniedData(policy.ReasonSendAsDenied, "x")},
		{"sender_mismatch", replySendAsDeniedData(policy.ReasonSenderMismatch, "x")},
		{"send_as_denied", replySendAsDeniedMail(policy.ReasonSendAsDenied, "x")},
		{"null_sender", replyNullSender("x")},
		{"message_too_large", replyMessageTooLarge(1)},
		{"header_too_large", replyHeaderTooLarge(1)},
		{"bad_sender_syntax", replyBadSenderSyntax(fmt.Errorf("x"))},
		{"bad_recipient_syntax", replyBadRecipientSyntax(fmt.Errorf("x"))},
		{"no_such_mailbox", replyNoSuchMailbox("a@b")},
		{"bad_sequence", replyNeedMail()},
		{"malformed_message", replySenderRequired("x")},
		{"malformed_message", replyMalformedHeader(fmt.Errorf("x"))},
		{"malformed_message", replyBareLineEnding("LF", 1)},
		{"malformed_message", replyNULByte(1)},
		{"malformed_message", replyLineTooLong(1, 2)},
		{"over_quota", replyOverQuota("x")},
		{"concurrency_limit", replyConcurrency("a@b", 1)},
		{"rate_limit", replyRate("a@b", 1, now, now)},
		{"recipients_per_message", replyTooManyRecipients(1)},
		{"daily_recipient_limit", replyDailyDefer("a@b", 1, now, now)},
		{"daily_recipient_limit", replyDailyReject("a@b", 1, now)},
		{"login_blocked", replyLoginBlocked(now, now)},
		{"local_error", replyLocalError()},
		{"data_timeout", replyDataTimeout(time.Minute)},
		{"transfer_interrupted", replyDataAborted()},
		{"shutting_down", replyShuttingDown()},
		{"bad_helo", replyBadHelo("x")},
		{"invalid_token", replyTokenRefused(policy.ReasonInvalidToken, "insufficient_scope")},
		{"insufficient_scope", replyTokenRefused(policy.ReasonInsufficientScope, "invalid_token")},
		{"oauth_unavailable", replyOAuthUnavailable()},
	} {
		if got := refusal(tc.r).Reason; got != tc.want {
			t.Errorf("%s: reason %q, want %q", tc.r.Error(), got, tc.want)
		}
	}
}
