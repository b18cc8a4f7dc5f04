package policy

import (
	"strings"
	"testing"
)

// TestDenySendAs_HintByTarget: the refusal's fix depends on what the
// directory holds of the address, and never names a command that fails.
func TestDenySendAs_HintByTarget(t *testing.T) {
	held := map[string]Target{"support@example.com": TargetHeld, "new@example.com": TargetUnheld, "someone@gmail.com": TargetForeign}
	s := Sender{Mailbox: "app@example.com", PlusSeparator: "+", Target: func(a string) Target { return held[a] }}
	for _, c := range []struct {
		name, addr string
		sender     Sender
		want, not  string
	}{
		{"held: grant it", "support@example.com", s, "mailroom grant send-as --on support@example.com --to app@example.com", "mailbox add"},
		{"tagged: grant the base address", "support+x@example.com", s, "mailroom grant send-as --on support@example.com --to app@example.com", "mailbox add"},
		{"unheld: create, then grant", "new@example.com", s, "mailroom mailbox add new@example.com --shared, then mailroom grant send-as --on new@example.com --to app@example.com", "send-on-behalf"},
		{"foreign: cannot be granted", "someone@gmail.com", s, "no grant can allow it: gmail.com is not a domain this server serves", "mailroom"},
		{"not told: grant it", "someone@gmail.com", Sender{Mailbox: "app@example.com"}, "mailroom grant send-as --on someone@gmail.com", "mailbox add"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, d := range []Decision{EnvelopeSender(c.sender, c.addr), HeaderSenders(c.sender, []string{c.addr}, "").Decision} {
				if d.Allow || d.Reason != ReasonSendAsDenied || !strings.Contains(d.Detail, c.want) || strings.Contains(d.Detail, c.not) {
					t.Errorf("%+v: want SendAsDenied with %q and without %q", d, c.want, c.not)
				}
			}
		})
	}
}
