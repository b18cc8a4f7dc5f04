package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxDays bounds the days of a duration: ten years, far under the 292
// years a time.Duration holds.
const MaxDays = 3650

// Duration is a time.Duration written in TOML as a string such as "10s",
// "2h" or "30d" (ParseDuration).
type Duration time.Duration

// ParseDuration parses a duration as every part of mailroom reads one: a Go
// duration ("90s", "12h", "1h30m") or a number of days, alone or followed
// by a Go duration ("30d", "1d12h"). It is the one parser of durations
// for the configuration and the CLI.
func ParseDuration(s string) (time.Duration, error) {
	if len(s) > 64 {
		return 0, fmt.Errorf("duration of %d characters: want at most 64", len(s))
	}
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("duration %q: want a value such as \"30s\", \"12h\" or \"30d\"", s)
		}
		return d, nil
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || n > MaxDays || days[0] == '+' {
		return 0, fmt.Errorf("duration %q: want a number of days from 0 to %d, such as \"30d\" or \"1d12h\"", s, MaxDays)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, fmt.Errorf("duration %q: want days then an optional duration, such as \"1d12h\"", s)
		}
		d += r
	}
	return d, nil
}

// FormatDuration writes d the way ParseDuration reads it, in days when it
// is a whole number of them ("30d", "1d12h0m0s", "90s"); 0 is "0".
func FormatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == 0:
		return "0"
	case d < day || d%time.Second != 0:
		return d.String()
	case d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	}
	return fmt.Sprintf("%dd%s", d/day, d%day)
}

// UnmarshalText parses a duration (ParseDuration).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as ParseDuration reads it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(FormatDuration(time.Duration(d))), nil }

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
