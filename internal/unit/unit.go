// Package unit owns how sizes, durations and counts read for people: "50
// MiB", "30 days", "1 recipient", and reads them back from forms and
// flags ("50M", "30d", "12 hours"). Every front end (console, CLI) formats
// through it, so no page shows raw bytes or "720h0m0s".
package unit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Day is 24 hours: mailroom's retention and budget windows are counted in
// them (no calendar days, no daylight-saving shifts).
const Day = 24 * time.Hour

// MaxInput bounds what the parsers read, before they look at it.
const MaxInput = 64

var sizeUnits = []struct {
	name string
	n    int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}

// Size is n bytes in the largest binary unit that leaves at least 1:
// "50 MiB", "1.5 GiB" (one decimal when not whole), "512 bytes".
func Size(n int64) string {
	for _, u := range sizeUnits {
		if n >= u.n || -n >= u.n {
			return decimal(float64(n)/float64(u.n)) + " " + u.name
		}
	}
	return Count(n, "byte", "bytes")
}

// decimal prints f with one decimal, none when it rounds to a whole number.
func decimal(f float64) string {
	s := strconv.FormatFloat(math.Round(f*10)/10, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

var durUnits = []struct {
	one, many string
	d         time.Duration
}{{"day", "days", Day}, {"hour", "hours", time.Hour}, {"minute", "minutes", time.Minute}, {"second", "seconds", time.Second}}

// Duration is d as people say it: in the largest unit that leaves at
// least 1 when it is a whole number of it ("30 days", "12 hours"), else in
// the next unit when it is a whole number of that ("36 hours", "90
// minutes"), else in the largest unit with one decimal ("1.5 days"); under
// a second in milliseconds ("250 ms"). Weeks are never used: people count
// retention in days.
func Duration(d time.Duration) string {
	if d == 0 {
		return "0 seconds"
	}
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	us := durUnits
	for i, u := range us {
		if d < u.d {
			continue
		}
		for _, v := range us[i:min(i+2, len(us))] {
			if d%v.d == 0 {
				return neg + Count(int64(d/v.d), v.one, v.many)
			}
		}
		n := decimal(float64(d) / float64(u.d))
		if n == "1" {
			return neg + n + " " + u.one
		}
		return neg + n + " " + u.many
	}
	return neg + decimal(float64(d)/float64(time.Millisecond)) + " ms"
}

// Count is n and the noun for it: "1 recipient", "3 recipients".
func Count(n int64, one, many string) string {
	if n == 1 || n == -1 {
		return strconv.FormatInt(n, 10) + " " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// ErrSyntax is wrapped by every parse error; the text says what is wanted.
var ErrSyntax = errors.New("unit syntax")

// ParseSize reads a size: a whole number of bytes, or a number with a unit
// K, M, G or T (binary: "50M", "50 MiB" and "50MB" are all 50 MiB), in any
// case, a space allowed between; "1.5G" too. Negative sizes are refused.
func ParseSize(s string) (int64, error) {
	bad := fmt.Errorf("%w: size %q: want a size such as 50 MiB, 500M or 2G, or a number of bytes", ErrSyntax, clip(s))
	if len(s) > MaxInput {
		return 0, bad
	}
	num, unit := split(s)
	mult := int64(1)
	switch strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(unit, "s"), "b"), "B")) {
	case "", "byte":
	case "k", "ki":
		mult = 1 << 10
	case "m", "mi":
		mult = 1 << 20
	case "g", "gi":
		mult = 1 << 30
	case "t", "ti":
		mult = 1 << 40
	default:
		return 0, bad
	}
	if n, err := strconv.ParseInt(num, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/mult {
			return 0, bad
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsNaN(f) || f*float64(mult) >= math.MaxInt64 {
		return 0, bad
	}
	return int64(math.Round(f * float64(mult))), nil
}

// ParseDuration reads a duration: one or more numbers with units ("30d",
// "30 days", "1d 12h", "12 hours", "90m", "1 week"), or Go's syntax
// ("720h", "1h30m"). Units: s, m, h, d, w and their English names. A bare
// number is refused: "30" could be minutes or days.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%w: duration %q: want a duration such as 30 days, 30d, 12h or 90m", ErrSyntax, clip(s))
	if len(s) > MaxInput {
		return 0, bad
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, bad
	}
	if d, err := time.ParseDuration(t); err == nil {
		return d, nil
	}
	var total time.Duration
	for t != "" {
		i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
		if i <= 0 {
			return 0, bad
		}
		num := t[:i]
		t = strings.TrimLeft(t[i:], " ")
		j := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsLetter(r) })
		if j < 0 {
			j = len(t)
		}
		word := strings.ToLower(t[:j])
		t = strings.TrimLeft(t[j:], " ,")
		u, ok := durWord(word)
		if !ok {
			return 0, bad
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f*float64(u) > math.MaxInt64/2 {
			return 0, bad
		}
		total += time.Duration(math.Round(f * float64(u)))
	}
	return total, nil
}

func durWord(w string) (time.Duration, bool) {
	switch w {
	case "ms", "millisecond", "milliseconds":
		return time.Millisecond, true
	case "s", "sec", "secs", "second", "seconds":
		return time.Second, true
	case "m", "min", "mins", "minute", "minutes":
		return time.Minute, true
	case "h", "hr", "hrs", "hour", "hours":
		return time.Hour, true
	case "d", "day", "days":
		return Day, true
	case "w", "week", "weeks":
		return 7 * Day, true
	}
	return 0, false
}

// split cuts "50 MiB" into "50" and "MiB".
func split(s string) (num, unit string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' && r != '-' })
	if i < 0 {
		return s, ""
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i:])
}

// clip keeps an error message short whatever was typed.
func clip(s string) string {
	if len(s) > MaxInput {
		return strings.ToValidUTF8(s[:MaxInput], "") + "…"
	}
	return s
}
