package main

import (
	"flag"
	"fmt"
	"strings"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

// limitFlags are the limit overrides of domain set and mailbox set.
type limitFlags struct {
	concurrent, perMinute, perMessage, perDay int
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.concurrent, "concurrent", 0, "transactions in flight at once (0 inherits)")
	fs.IntVar(&l.perMinute, "messages-per-minute", 0, "accepted messages per sliding minute (0 inherits)")
	fs.IntVar(&l.perMessage, "recipients-per-message", 0, "recipients per message (0 inherits)")
	fs.IntVar(&l.perDay, "recipients-per-day", 0, "recipients per rolling 24 hours (0 inherits)")
}

// change returns the overrides given on the command line (flags not given
// stay unchanged; an explicit 0 means inherit).
func (l *limitFlags) change(fs *flag.FlagSet) admin.LimitChange {
	var c admin.LimitChange
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "concurrent":
			c.Concurrent = &l.concurrent
		case "messages-per-minute":
			c.MessagesPerMinute = &l.perMinute
		case "recipients-per-message":
			c.RecipientsPerMessage = &l.perMessage
		case "recipients-per-day":
			c.RecipientsPerDay = &l.perDay
		}
	})
	return c
}

// formatLimits prints limits; zero fields print as zero.
func formatLimits(l store.Limits, zero string) string {
	f := func(v int) string {
		if v == 0 {
			return zero
		}
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("concurrent %s, messages/minute %s, recipients/message %s, recipients/day %s",
		f(l.Concurrent), f(l.MessagesPerMinute), f(l.RecipientsPerMessage), f(l.RecipientsPerDay))
}

// flagGiven reports whether the command line set the flag, so that an
// explicit empty value (--networks "") can mean "remove".
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func orAny(nets []string) string {
	if len(nets) == 0 {
		return "any"
	}
	return strings.Join(nets, ", ")
}
