package web

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/dnscheck"
	"mailroom/internal/unit"
)

// formatFuncs are the console templates' way to show values as people read
// them, in units people use (internal/unit): every page calls these, never
// prints raw bytes or a Go duration.
var formatFuncs = template.FuncMap{
	// size is a byte count: "50 MiB".
	"size": unit.Size,
	// quota is a quota: "50 MiB", or "unlimited" for 0.
	"quota": func(n int64) string {
		if n == 0 {
			return "unlimited"
		}
		return unit.Size(n)
	},
	// duration is a duration: "30 days", "12 hours".
	"duration": unit.Duration,
	// retention is a Sent Items retention: "30 days", or "kept forever".
	"retention": func(d time.Duration) string {
		if d == 0 {
			return "kept forever"
		}
		return unit.Duration(d)
	},
	// durationField is a duration as a form field shows it: "30 days",
	// "" for 0.
	"durationField": func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return unit.Duration(d)
	},
	// sizeField is a size as a form field shows it: "50 MiB", "" for 0.
	"sizeField": func(n int64) string {
		if n == 0 {
			return ""
		}
		return unit.Size(n)
	},
	// int64 widens a count for percent.
	"int64": func(n int) int64 { return int64(n) },
	// hasPrefix is strings.HasPrefix.
	"hasPrefix": strings.HasPrefix,
	// zoneTXT is a TXT value as zone-file strings of at most 255 octets,
	// as `mailroom domain dkim` prints it.
	"zoneTXT": dnscheck.Quote,
	// grantKind names a grant kind as the console says it; a kind it does
	// not know shows as stored.
	"grantKind": grantKind,
	// effective is a limit as it applies and where it comes from.
	"effective": effectiveText,
	// percent is used of total in whole percent, 0 when total is 0.
	"percent": func(used, total int64) int64 {
		if total <= 0 {
			return 0
		}
		return min(used*100/total, 100)
	},
}

// effectiveText is a limit as it applies and where it comes from: "3
// (set here)", "inherits 3 from the server", "inherits 30 from the
// domain", "unlimited".
func effectiveText(e admin.EffectiveLimit, here string) string {
	v := strconv.Itoa(e.Value)
	switch e.From {
	case admin.FromMailbox:
		return v + " (set on this " + here + ")"
	case admin.FromDomain:
		if here == "domain" {
			return v + " (set on this domain)"
		}
		return "inherits " + v + " from the domain"
	case admin.FromServer:
		return "inherits " + v + " from the server"
	}
	return "unlimited (set nowhere)"
}

// grantKind names a grant kind: "Send As", "Send on Behalf", "Full Access"
// (full-access opens the mailbox's folders over IMAP); others as stored.
func grantKind(kind string) string {
	switch kind {
	case "send-as":
		return "Send As"
	case "send-on-behalf":
		return "Send on Behalf"
	case "full-access":
		return "Full Access"
	}
	return kind
}
