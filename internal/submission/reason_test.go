package submission

import (
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestReasonOf pins the trace token of every refusing reply.
func TestReasonOf(t *testing.T) {
	now := time.Now()
	for want, r := range map[string]*smtp.SMTPError{
		"not_authenticated":      replyAuthRequired(),
		"no_tls":                 replyEncryptionRequired(),
		"bad_credentials":        replyBadCredentials(),
		"smtp_auth_disabled":     replyLoginRefused("SMTP AUTH is disabled for a@b"),
		"network_not_allowed":    replyLoginRefused("network not allowed: ..."),
		"send_as_denied":         replySendAsDeniedData("x"),
		"null_sender":            replyNullSender("x"),
		"message_too_large":      replyMessageTooLarge(1),
		"bad_sender_syntax":      replyBadSenderSyntax(fmt.Errorf("x")),
		"bad_recipient_syntax":   replyBadRecipientSyntax(fmt.Errorf("x")),
		"no_such_mailbox":        replyNoSuchMailbox("a@b"),
		"bad_sequence":           replyNeedMail(),
		"malformed_message":      replySenderRequired("x"),
		"over_quota":             replyOverQuota("x"),
		"concurrency_limit":      replyConcurrency("a@b", 1),
		"rate_limit":             replyRate("a@b", 1, now, now),
		"recipients_per_message": replyTooManyRecipients(1),
		"daily_recipient_limit":  replyDailyDefer("a@b", 1, now, now),
		"login_blocked":          replyLoginBlocked(now, now),
		"local_error":            replyLocalError(),
	} {
		if got := refusal(r).Reason; got != want {
			t.Errorf("%d %v %q: reason %q, want %q", r.Code, r.EnhancedCode, r.Message, got, want)
		}
	}
	if got := refusal(replyDailyReject("a@b", 1, now)).Reason; got != "daily_recipient_limit" {
		t.Errorf("daily reject: %q", got)
	}
}
