package main

import (
	"flag"
	"time"

	"mailroom/internal/unit"
)

// parseDays parses a duration given on the command line: days ("30d",
// "30 days"), a duration ("12h", "1d12h"), or 0 ("off"): keep forever, no
// limit. It is the CLI's one duration parser (unit.ParseDuration).
func parseDays(flag, v string) (time.Duration, error) {
	if v == "0" || v == "off" {
		return 0, nil
	}
	d, err := unit.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, usagef("%s=%s: want a number of days such as 30d, a duration such as 12h or 1d12h, or 0", flag, v)
	}
	return d, nil
}

// durationFlag is a flag.Value holding a duration parseDays reads.
type durationFlag struct {
	name string
	d    *time.Duration
}

// durationVar defines a duration flag that parseDays reads ("1d", "12h").
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var(durationFlag{name, p}, name, usage)
}

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return unit.Duration(*f.d)
}

func (f durationFlag) Set(v string) error {
	d, err := parseDays("--"+f.name, v)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// parseSize parses a byte count with an optional binary unit: 500M, 2G,
// 50 MiB, 1048576, or 0 (unlimited) (unit.ParseSize, shared with the
// console).
func parseSize(flag, v string) (int64, error) {
	n, err := unit.ParseSize(v)
	if err != nil {
		return 0, usagef("%s=%s: want a size such as 500M or 2G, or 0 for unlimited", flag, v)
	}
	return n, nil
}

// formatDays prints a retention the way parseDays reads it.
func formatDays(d time.Duration) string {
	if d == 0 {
		return "keep forever"
	}
	return unit.Duration(d)
}
