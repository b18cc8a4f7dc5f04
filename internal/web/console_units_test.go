package web

import (
	"testing"

	"mailroom/internal/admin"
)

func TestEffectiveText(t *testing.T) {
	for _, c := range []struct {
		e    admin.EffectiveLimit
		here string
		want string
	}{
		{admin.EffectiveLimit{Value: 3, From: admin.FromServer}, "mailbox", "inherits 3 from the server"},
		{admin.EffectiveLimit{Value: 30, From: admin.FromDomain}, "mailbox", "inherits 30 from the domain"},
		{admin.EffectiveLimit{Value: 30, From: admin.FromDomain}, "domain", "30 (set on this domain)"},
		{admin.EffectiveLimit{Value: 5, From: admin.FromMailbox}, "mailbox", "5 (set on this mailbox)"},
		{admin.EffectiveLimit{}, "mailbox", "unlimited (set nowhere)"},
	} {
		if got := effectiveText(c.e, c.here); got != c.want {
			t.Errorf("effectiveText(%+v, %s) = %q, want %q", c.e, c.here, got, c.want)
		}
	}
}

func TestGrantKind(t *testing.T) {
	for kind, want := range map[string]string{"send-as": "Send As", "send-on-behalf": "Send on Behalf", "full-access": "Full Access", "future-kind": "future-kind"} {
		if got := grantKind(kind); got != want {
			t.Errorf("grantKind(%q) = %q, want %q", kind, got, want)
		}
	}
}
