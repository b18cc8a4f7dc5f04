package submission

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/policy"
)

// TestReplies pins the DESIGN.md reply table: code, enhanced code and the
// stable start of the text.
func TestReplies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      *Reply
		code   int
		enh    smtp.EnhancedCode
		prefix string
	}{
		{"MAIL before AUTH", replyAuthRequired(), 530, smtp.EnhancedCode{5, 7, 57}, "Client not authenticated to send mail"},
		{"AUTH before TLS", replyEncryptionRequired(), 538, smtp.EnhancedCode{5, 7, 11}, "Encryption required for requested authentication mechanism"},
		{"wrong credentials", replyBadCredentials(), 535, smtp.EnhancedCode{5, 7, 3}, "Authentication unsuccessful"},
		{"login refused", replyLoginRefused(policy.ReasonSMTPAuthDisabled, "SMTP AUTH is disabled"), 535, smtp.EnhancedCode{5, 7, 139}, "Authentication unsuccessful, SMTP AUTH is disabled"},
		{"send as denied at MAIL", replySendAsDeniedMail(policy.ReasonSendAsDenied, "x"), 550, smtp.EnhancedCode{5, 7, 60}, "SendAsDenied: x"},
		{"send as denied after DATA", replySendAsDeniedData(policy.ReasonSendAsDenied, "x"), 554, smtp.EnhancedCode{5, 7, 60}, "SendAsDenied: x"},
		{"message too large", replyMessageTooLarge(10), 552, smtp.EnhancedCode{5, 3, 4}, "Message size exceeds the limit of 10 bytes"},
		{"local error", replyLocalError(), 451, smtp.EnhancedCode{4, 3, 0}, "Message not accepted"},
		{"queued", replyQueued("Q"), 250, smtp.EnhancedCode{2, 0, 0}, "OK queued as Q"},
		{"bare line ending", replyBareLineEnding("LF", 3), 554, smtp.EnhancedCode{5, 6, 0}, "BareLineEnding: bare LF in line 3"},
		{"NUL byte", replyNULByte(2), 554, smtp.EnhancedCode{5, 6, 0}, "NULByte: line 2"},
		{"line too long", replyLineTooLong(4, 65536), 554, smtp.EnhancedCode{5, 6, 0}, "LineTooLong: line 4"},
		{"data timeout", replyDataTimeout(time.Minute), 421, smtp.EnhancedCode{4, 4, 2}, "Timeout: the message did not arrive within 1m0s"},
		{"data aborted", replyDataAborted(), 451, smtp.EnhancedCode{4, 4, 2}, "Message transfer interrupted"},
		{"shutting down", replyShuttingDown(), 421, smtp.EnhancedCode{4, 3, 2}, "Service shutting down"},
		{"bad EHLO", replyBadHelo("x"), 501, smtp.EnhancedCode{5, 5, 4}, "Invalid EHLO argument: x"},
		{"header too large", replyHeaderTooLarge(262144), 552, smtp.EnhancedCode{5, 3, 4}, "Message header too large: the header fields exceed the limit of 262144 bytes"},
		{"bad OAuth token", replyTokenRefused(policy.ReasonInvalidToken, "x"), 535, smtp.EnhancedCode{5, 7, 8}, "Authentication credentials invalid: x"},
		{"OAuth keys unavailable", replyOAuthUnavailable(), 454, smtp.EnhancedCode{4, 7, 0}, "Temporary authentication failure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.r.Code != tc.code || tc.r.Enhanced != tc.enh || !strings.HasPrefix(tc.r.Text, tc.prefix) {
				t.Fatalf("got %d %v %q, want %d %v %q…", tc.r.Code, tc.r.Enhanced, tc.r.Text, tc.code, tc.enh, tc.prefix)
			}
		})
	}
}

func TestLoginServer(t *testing.T) {
	var gotUser, gotPass string
	auth := func(u, p string) error { gotUser, gotPass = u, p; return nil }
	l := &loginServer{authenticate: auth}
	if c, done, _ := l.Next(nil); string(c) != "Username:" || done {
		t.Fatalf("first challenge %q", c)
	}
	if c, done, _ := l.Next([]byte("u")); string(c) != "Password:" || done {
		t.Fatalf("second challenge %q", c)
	}
	if _, done, err := l.Next([]byte("p")); !done || err != nil || gotUser != "u" || gotPass != "p" {
		t.Fatalf("done=%v err=%v user=%q pass=%q", done, err, gotUser, gotPass)
	}
	if _, _, err := l.Next([]byte("again")); err == nil {
		t.Fatal("a fourth step was accepted")
	}
	l = &loginServer{authenticate: func(u, p string) error { return errors.New(u + p) }}
	if c, _, _ := l.Next([]byte("init")); string(c) != "Password:" {
		t.Fatalf("initial response: challenge %q", c)
	}
	if _, _, err := l.Next([]byte("pw")); err == nil || err.Error() != "initpw" {
		t.Fatalf("err %v", err)
	}
}
