package submission_test

import (
	"strings"
	"testing"

	"mailroom/internal/testkit"
)

// TestSendAs_HintNamesOnlyWorkingFixes: the SendAsDenied refusal never
// suggests a command that would fail. An outside address (gmail.com, not
// served here) cannot be granted, and the reply says so; an address of a
// served domain that does not exist yet is created first, then granted;
// an existing one is granted.
func TestSendAs_HintNamesOnlyWorkingFixes(t *testing.T) {
	s := testkit.Start(t, senderFixture)
	c := testkit.Ready(t, s, "app@example.test", pw)
	for _, tc := range []struct {
		from      string
		want, not []string
	}{
		{"someone@gmail.com",
			[]string{"SendAsDenied", "no grant can allow it", "gmail.com is not a domain this server serves", "such as app@example.test"},
			[]string{"mailroom grant", "mailroom mailbox add"}},
		{"billing@example.test",
			[]string{"SendAsDenied", "no mailbox or alias here", "mailroom mailbox add billing@example.test --shared, then mailroom grant send-as --on billing@example.test --to app@example.test"},
			nil},
		{"support+tickets@example.test",
			[]string{"SendAsDenied", "mailroom grant send-as --on support@example.test --to app@example.test"},
			[]string{"mailroom mailbox add"}},
	} {
		check := func(r testkit.Reply) {
			t.Helper()
			for _, w := range tc.want {
				if !strings.Contains(r.Text, w) {
					t.Errorf("refusal of %s %q lacks %q", tc.from, r.Text, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(r.Text, n) {
					t.Errorf("refusal of %s %q suggests %q, which would fail", tc.from, r.Text, n)
				}
			}
		}
		check(c.MustCmd("MAIL FROM:<"+tc.from+">", 550, "5.7.60"))
		check(c.Expect(submit(t, c, "app@example.test", "carol@example.test", "From: "+tc.from+"\nSubject: hint\n\nx\n"), 554, "5.7.60"))
	}
}
