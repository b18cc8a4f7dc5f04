package policy

import (
	"strings"
	"testing"
)

func TestLogin(t *testing.T) {
	user := Account{Address: "alice@example.com", Exists: true, SMTPAuth: true}
	off := user
	off.SMTPAuth = false
	shared := Account{Address: "info@example.com", Exists: true, Shared: true, SMTPAuth: true}
	for _, tc := range []struct {
		name string
		acct Account
		ok   bool
		want Reason
	}{
		{"good", user, true, ReasonNone},
		{"wrong password", user, false, ReasonBadCredentials},
		{"unknown user", Account{Address: "x@example.com"}, true, ReasonBadCredentials},
		{"smtp auth off, right password", off, true, ReasonSMTPAuthDisabled},
		{"smtp auth off, wrong password hides it", off, false, ReasonBadCredentials},
		{"shared, right password", shared, true, ReasonSharedMailbox},
		{"shared, wrong password hides it", shared, false, ReasonBadCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Login(tc.acct, tc.ok)
			if d.Allow != (tc.want == ReasonNone) || d.Reason != tc.want {
				t.Fatalf("Login = %+v, want reason %q", d, tc.want)
			}
			if tc.want == ReasonSMTPAuthDisabled && !strings.Contains(d.Detail, "--smtp-auth=on") {
				t.Errorf("detail does not name the fix: %q", d.Detail)
			}
		})
	}
}

func TestEnvelopeSender(t *testing.T) {
	s := Sender{Mailbox: "alice@example.com", Owned: []string{"a.smith@example.com"}}
	for _, tc := range []struct {
		name, addr string
		want       Reason
	}{
		{"own address", "alice@example.com", ReasonNone},
		{"owned alias", "a.smith@example.com", ReasonNone},
		{"someone else", "bob@example.com", ReasonSendAsDenied},
		{"other domain", "alice@example.org", ReasonSendAsDenied},
		{"null sender", "", ReasonNullSender},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := EnvelopeSender(s, tc.addr)
			if d.Allow != (tc.want == ReasonNone) || d.Reason != tc.want {
				t.Fatalf("EnvelopeSender(%q) = %+v, want %q", tc.addr, d, tc.want)
			}
			if tc.want == ReasonSendAsDenied {
				for _, part := range []string{"alice@example.com", tc.addr, "mailroom grant send-as --on " + tc.addr + " --to alice@example.com"} {
					if !strings.Contains(d.Detail, part) {
						t.Errorf("detail %q lacks %q", d.Detail, part)
					}
				}
			}
		})
	}
}

func TestHeaderSenders(t *testing.T) {
	s := Sender{Mailbox: "alice@example.com", Owned: []string{"a.smith@example.com"}}
	for _, tc := range []struct {
		name   string
		from   []string
		sender string
		want   Reason
	}{
		{"own from", []string{"alice@example.com"}, "", ReasonNone},
		{"own from and sender", []string{"a.smith@example.com"}, "alice@example.com", ReasonNone},
		{"foreign from", []string{"bob@example.com"}, "", ReasonSendAsDenied},
		{"foreign sender", []string{"alice@example.com"}, "bob@example.com", ReasonSendAsDenied},
		{"two owned froms need sender", []string{"alice@example.com", "a.smith@example.com"}, "", ReasonMultipleFromNoSnd},
		{"two owned froms with sender", []string{"alice@example.com", "a.smith@example.com"}, "alice@example.com", ReasonNone},
		{"one of two froms foreign", []string{"alice@example.com", "bob@example.com"}, "alice@example.com", ReasonSendAsDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := HeaderSenders(s, tc.from, tc.sender)
			if d.Allow != (tc.want == ReasonNone) || d.Reason != tc.want {
				t.Fatalf("HeaderSenders(%v, %q) = %+v, want %q", tc.from, tc.sender, d, tc.want)
			}
		})
	}
}
