package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseDays parses a retention such as "30d", "12h" or "0" (keep forever).
func parseDays(flag, v string) (time.Duration, error) {
	if v == "0" || v == "off" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(v, "d"); ok {
		d, err := strconv.Atoi(n)
		if err == nil && d > 0 {
			return time.Duration(d) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	return 0, usagef("%s=%s: want a number of days such as 30d, a duration such as 12h, or 0 to keep forever", flag, v)
}

// parseSize parses a byte count with an optional binary unit: 500M, 2G,
// 1048576, or 0 (unlimited).
func parseSize(flag, v string) (int64, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "I")
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, usagef("%s=%s: want a size such as 500M or 2G, or 0 for unlimited", flag, v)
	}
	return n * mult, nil
}

// formatDays prints a retention the way parseDays reads it.
func formatDays(d time.Duration) string {
	if d == 0 {
		return "keep forever"
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
