package admin

import "mailroom/internal/store"

// Where a limit's value comes from, for EffectiveLimit.From.
const (
	FromMailbox = "mailbox" // set on the mailbox
	FromDomain  = "domain"  // inherited from the mailbox's domain
	FromServer  = "server"  // inherited from the configuration's [limits]
	FromNone    = ""        // set nowhere: unlimited
)

// EffectiveLimit is one limit of a mailbox as it applies, and which level
// sets it: what the console shows as "3 (inherits from the server)".
type EffectiveLimit struct {
	Key   string // the form and API field: "concurrent", "messages_per_minute", …
	Name  string // for people: "Concurrent transactions"
	Own   int    // the mailbox's own setting; 0 inherits
	Value int    // the value that applies; 0 is unlimited
	From  string // FromMailbox, FromDomain, FromServer or FromNone
}

// EffectiveLimits lists each limit of a mailbox with its value and the
// level it comes from: the mailbox's own when set, else the domain's, else
// the server's (the order limits.Effective applies).
func EffectiveLimits(server, domain, mailbox store.Limits) []EffectiveLimit {
	pick := func(key, name string, f func(store.Limits) int) EffectiveLimit {
		e := EffectiveLimit{Key: key, Name: name, Own: f(mailbox)}
		for _, l := range []struct {
			from string
			v    int
		}{{FromMailbox, f(mailbox)}, {FromDomain, f(domain)}, {FromServer, f(server)}} {
			if l.v > 0 {
				e.Value, e.From = l.v, l.from
				return e
			}
		}
		return e
	}
	return []EffectiveLimit{
		pick("concurrent", "Concurrent transactions", func(l store.Limits) int { return l.Concurrent }),
		pick("messages_per_minute", "Messages per minute", func(l store.Limits) int { return l.MessagesPerMinute }),
		pick("recipients_per_message", "Recipients per message", func(l store.Limits) int { return l.RecipientsPerMessage }),
		pick("recipients_per_day", "Recipients per 24 hours", func(l store.Limits) int { return l.RecipientsPerDay }),
	}
}
