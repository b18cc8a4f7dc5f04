package unit_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"mailroom/internal/unit"
)

func TestSize(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"}, {1, "1 byte"}, {1023, "1023 bytes"}, {1024, "1 KiB"}, {1536, "1.5 KiB"},
		{50 << 20, "50 MiB"}, {52428800, "50 MiB"}, {3 << 30, "3 GiB"}, {1<<30 + 1<<29, "1.5 GiB"}, {2 << 40, "2 TiB"},
		{1<<20 + 1, "1 MiB"},
	} {
		if got := unit.Size(c.n); got != c.want {
			t.Errorf("Size(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0 seconds"}, {720 * time.Hour, "30 days"}, {24 * time.Hour, "1 day"}, {12 * time.Hour, "12 hours"},
		{14 * 24 * time.Hour, "14 days"}, {90 * time.Minute, "90 minutes"}, {time.Second, "1 second"},
		{36*time.Hour + 30*time.Minute, "1.5 days"}, {250 * time.Millisecond, "250 ms"}, {-2 * time.Hour, "-2 hours"},
		{time.Hour + 500*time.Millisecond, "1 hour"},
	} {
		if got := unit.Duration(c.d); got != c.want {
			t.Errorf("Duration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"1048576", 1 << 20}, {"50 MiB", 50 << 20}, {"50M", 50 << 20}, {"50mb", 50 << 20}, {"2G", 2 << 30},
		{"1.5 GiB", 3 << 29}, {"512 bytes", 512}, {"  10 KiB ", 10 << 10}, {"1T", 1 << 40},
	} {
		got, err := unit.ParseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
		if back, err := unit.ParseSize(unit.Size(got)); err != nil || (got < 1<<20 && back != got) {
			t.Errorf("ParseSize(Size(%d)) = %d, %v", got, back, err)
		}
	}
	for _, in := range []string{"", "fifty", "-1", "50 XB", "9999999999 TiB", "1.2.3M", strings.Repeat("9", 65)} {
		if _, err := unit.ParseSize(in); !errors.Is(err, unit.ErrSyntax) {
			t.Errorf("ParseSize(%q): %v, want ErrSyntax", in, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"720h", 720 * time.Hour}, {"30d", 30 * unit.Day}, {"30 days", 30 * unit.Day}, {"1 day", unit.Day}, {"12 hours", 12 * time.Hour},
		{"1d 12h", 36 * time.Hour}, {"1d12h", 36 * time.Hour}, {"2w", 14 * unit.Day}, {"90m", 90 * time.Minute}, {"1h30m", 90 * time.Minute},
		{"1.5 hours", 90 * time.Minute}, {"0s", 0},
	} {
		got, err := unit.ParseDuration(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if back, err := unit.ParseDuration(unit.Duration(got)); err != nil || back != got {
			t.Errorf("ParseDuration(Duration(%v)) = %v, %v", got, back, err)
		}
	}
	for _, in := range []string{"", "30", "thirty days", "3 fortnights", "d", strings.Repeat("1", 70) + "d", "99999999999999d"} {
		if _, err := unit.ParseDuration(in); !errors.Is(err, unit.ErrSyntax) {
			t.Errorf("ParseDuration(%q): %v, want ErrSyntax", in, err)
		}
	}
}

func TestCount(t *testing.T) {
	if got := unit.Count(1, "recipient", "recipients"); got != "1 recipient" {
		t.Error(got)
	}
	if got := unit.Count(0, "recipient", "recipients"); got != "0 recipients" {
		t.Error(got)
	}
}
