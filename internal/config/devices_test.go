package config

import (
	"strings"
	"testing"
	"time"
)

// TestLoad_Devices: listen_relay and concurrency_wait are off by default,
// read when set, and refused out of bounds.
func TestLoad_Devices(t *testing.T) {
	c, err := Load(write(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if c.Submission.ListenRelay != "" || c.Limits.ConcurrencyWait.Std() != 0 {
		t.Fatalf("defaults: listen_relay %q, concurrency_wait %v", c.Submission.ListenRelay, c.Limits.ConcurrencyWait.Std())
	}
	c, err = Load(write(t, "[submission]\nlisten_relay = \":25\"\n[limits]\nconcurrency_wait = \"30s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Submission.ListenRelay != ":25" || c.Limits.ConcurrencyWait.Std() != 30*time.Second {
		t.Fatalf("read: listen_relay %q, concurrency_wait %v", c.Submission.ListenRelay, c.Limits.ConcurrencyWait.Std())
	}
	for _, tc := range []struct{ body, want string }{
		{"[submission]\nlisten_relay = \"25\"", "submission.listen_relay"},
		{"[limits]\nconcurrency_wait = \"-1s\"", "limits.concurrency_wait"},
		{"[limits]\nconcurrency_wait = \"4m1s\"", "limits.concurrency_wait"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if _, err := Load(write(t, tc.body+"\n")); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}
