package config

import (
	"time"

	"mailroom/internal/unit"
)

// Duration is a time.Duration written in TOML as a string such as "10s",
// "2h", "30d" or "30 days" (unit.ParseDuration, the one duration parser of
// the configuration, the CLI, the API and the console).
type Duration time.Duration

// UnmarshalText parses a duration (unit.ParseDuration).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := unit.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as people read it ("30 days"), which
// UnmarshalText reads back.
func (d Duration) MarshalText() ([]byte, error) { return []byte(unit.Duration(time.Duration(d))), nil }

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
