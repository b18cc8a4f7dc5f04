package admin_test

import (
	"testing"

	"mailroom/internal/admin"
	"mailroom/internal/limits"
	"mailroom/internal/store"
)

func TestEffectiveLimits(t *testing.T) {
	for _, c := range []struct {
		name                    string
		server, domain, mailbox store.Limits
		want                    []string // From of each limit, in order
		values                  []int
	}{
		{"server only", store.Limits{Concurrent: 3, MessagesPerMinute: 30, RecipientsPerMessage: 100, RecipientsPerDay: 10000}, store.Limits{}, store.Limits{},
			[]string{admin.FromServer, admin.FromServer, admin.FromServer, admin.FromServer}, []int{3, 30, 100, 10000}},
		{"domain over server", store.Limits{Concurrent: 3, RecipientsPerDay: 10000}, store.Limits{RecipientsPerDay: 30}, store.Limits{},
			[]string{admin.FromServer, admin.FromNone, admin.FromNone, admin.FromDomain}, []int{3, 0, 0, 30}},
		{"mailbox over all", store.Limits{Concurrent: 3}, store.Limits{Concurrent: 5}, store.Limits{Concurrent: 1, MessagesPerMinute: 2},
			[]string{admin.FromMailbox, admin.FromMailbox, admin.FromNone, admin.FromNone}, []int{1, 2, 0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := admin.EffectiveLimits(c.server, c.domain, c.mailbox)
			eff := limits.Effective(c.server, c.domain, c.mailbox)
			applied := []int{eff.Concurrent, eff.MessagesPerMinute, eff.RecipientsPerMessage, eff.RecipientsPerDay}
			for i, e := range got {
				if e.From != c.want[i] || e.Value != c.values[i] || e.Value != applied[i] {
					t.Errorf("%s: from %q value %d (limits.Effective %d), want from %q value %d", e.Key, e.From, e.Value, applied[i], c.want[i], c.values[i])
				}
			}
		})
	}
}
