package submission_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"mailroom/internal/testkit"
)

// TestLog_NeverPasswordsOrBodies: at debug level, after good and bad
// logins (PLAIN and LOGIN) and an accepted and a refused message, the log
// holds neither password (plain or base64) nor anything of the bodies.
func TestLog_NeverPasswordsOrBodies(t *testing.T) {
	s := testkit.Start(t, fixture)
	const wrong = "Wrong-Secret-9f2c"
	const body = "Body-Marker-7d41"

	c := testkit.Dial(t, s.Addr("submission"))
	c.MustCmd("EHLO client.example.test", 250, "")
	c.StartTLS(s.TLSConfig())
	c.Expect(c.AuthPlain("alice@example.test", wrong), 535, "5.7.3")
	c.MustCmd("AUTH LOGIN", 334, "")
	c.MustCmd(base64.StdEncoding.EncodeToString([]byte("alice@example.test")), 334, "")
	c.MustCmd(base64.StdEncoding.EncodeToString([]byte(wrong)), 535, "5.7.3")
	c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0")
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: x\n\n"+body+" accepted\n"), 250, "2.0.0")
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	c.MustCmd("RCPT TO:<carol@example.test>", 250, "")
	c.Expect(c.SendData("Subject: x\n\n"+body+" refused\nbare\rCR\n"), 554, "5.6.0")

	log := s.Log()
	for _, secret := range []string{pw, wrong, body,
		base64.StdEncoding.EncodeToString([]byte(wrong)),
		base64.StdEncoding.EncodeToString([]byte("\x00alice@example.test\x00" + pw)),
		base64.StdEncoding.EncodeToString([]byte("\x00alice@example.test\x00" + wrong)),
	} {
		if strings.Contains(log, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
	for _, want := range []string{"auth failed", "auth ok", "accepted", "BareLineEnding"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q", want)
		}
	}
}
