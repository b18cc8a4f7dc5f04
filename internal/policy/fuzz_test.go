package policy

import (
	"strings"
	"testing"
)

// FuzzSenderDecision puts arbitrary addresses, aliases and grants to the
// sender decisions. Whatever the input: no panic; a refusal always names
// its reason and explains itself; the mailbox may always use its own
// address; it owns nothing but that address, its alias and their tagged
// forms (never the base of a tagged name of its own); the envelope and
// header decisions agree with Via; an allowed
// header decision found a right for every From: address; Sender: is added
// only for send-on-behalf; and the Sent Items copies never list a mailbox
// twice. Seeds: testdata/fuzz/FuzzSenderDecision.
func FuzzSenderDecision(f *testing.F) {
	f.Add("app@example.com", "alias@example.com", "send-as", "support@example.com", "+", "support@example.com", "", true)
	f.Add("app@example.com", "", "send-on-behalf", "@example.com", "+", "noreply@example.com,app+x@example.com", "", false)
	f.Add("app@example.com", "", "send-on-behalf", "boss@example.com", "", "boss@example.com", "other@example.com", true)
	f.Add("a+b@example.com", "a@example.com", "send-as", "@", "+", "+@example.com,a@", "a+b@example.com", false)
	f.Add("@", "@@", "x", "", "@", "@,,@", "@", true)
	f.Add("alice+bot@example.com", "", "", "", "+", "alice@example.com,alice+news@example.com", "", true)
	f.Add("app@example.com", "sales+eu@example.com", "send-as", "bob+x@example.com", "+", "sales@example.com,bob@example.com", "", true)
	f.Fuzz(func(t *testing.T, mailbox, alias, kind, on, sep, fromList, sender string, saveSent bool) {
		s := Sender{Mailbox: mailbox, PlusSeparator: sep}
		if alias != "" {
			s.Owned = []string{alias}
		}
		if on != "" {
			s.Grants = []Grant{{Kind: kind, On: on}}
		}
		if d := EnvelopeSender(s, mailbox); mailbox != "" && !d.Allow {
			t.Fatalf("%q may not use its own address: %+v", mailbox, d)
		}
		var from []string
		for _, a := range strings.Split(fromList, ",") {
			if a != "" {
				from = append(from, a)
			}
		}
		for _, a := range from {
			v, _ := s.Via(a)
			if base := StripPlus(a, sep); v == ViaOwn && a != mailbox && a != alias && base != mailbox && base != alias {
				t.Fatalf("%q (alias %q, separator %q) owns %q, which is neither its address, its alias, nor a tagged form of one", mailbox, alias, sep, a)
			}
			if d := EnvelopeSender(s, a); d.Allow != (v != ViaNone) {
				t.Fatalf("EnvelopeSender(%q) = %+v but Via = %v", a, d, v)
			}
			checkDecision(t, EnvelopeSender(s, a))
		}
		if len(from) == 0 {
			return
		}
		d := HeaderSenders(s, from, sender)
		checkDecision(t, d.Decision)
		if !d.Allow {
			return
		}
		onBehalf := false
		var targets []CopyTarget
		for i, a := range from {
			if d.Vias[i] == ViaNone {
				t.Fatalf("From: %q allowed without a right", a)
			}
			onBehalf = onBehalf || d.Vias[i] == ViaSendOnBehalf
			targets = append(targets, CopyTarget{Mailbox: a, Via: d.Vias[i], CopySentAs: true, CopySentOnBehalf: true})
		}
		if d.AddSender != "" && (!onBehalf || sender != "" || d.AddSender != mailbox) {
			t.Fatalf("Sender: %q added (from %q, sender %q)", d.AddSender, from, sender)
		}
		if len(from) > 1 && sender == "" && d.AddSender == "" {
			t.Fatalf("several From: addresses allowed without Sender:")
		}
		seen := map[string]bool{}
		for _, m := range SentCopies(mailbox, saveSent, targets) {
			if seen[m] {
				t.Fatalf("SentCopies lists %q twice", m)
			}
			seen[m] = true
		}
	})
}

func checkDecision(t *testing.T, d Decision) {
	t.Helper()
	if !d.Allow && (d.Reason == ReasonNone || d.Detail == "") {
		t.Fatalf("refusal without reason or detail: %+v", d)
	}
	if d.Allow && d.Reason != ReasonNone {
		t.Fatalf("allowed with a reason: %+v", d)
	}
}
