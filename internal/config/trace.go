package config

import "time"

// Trace configures the message trace.
type Trace struct {
	// Retention is how long trace events are kept; the retention sweeper
	// (retention.sweep_interval) deletes older ones. Default "720h" (30 days).
	Retention Duration `toml:"retention"`
}

// DefaultTrace is the [trace] section's default.
func DefaultTrace() Trace { return Trace{Retention: Duration(720 * time.Hour)} }

func (t Trace) validate() error {
	if t.Retention.Std() < time.Hour {
		return &FieldError{"trace.retention", t.Retention.Std(), "must be at least 1h"}
	}
	return nil
}
