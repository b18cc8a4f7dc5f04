package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoad_LoginBounds(t *testing.T) {
	c, err := Load(write(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Submission
	if s.MaxConnectionsPerAddress != 50 || s.ConnectionRatePerAddress != 600 || s.MaxAuthPerAddress != 4 ||
		s.MaxConcurrentHashes != 0 || s.HashWait.Std() != 5*time.Second {
		t.Fatalf("defaults %+v", s)
	}
	c, err = Load(write(t, "[submission]\nmax_connections_per_address = 0\nconnection_rate_per_address = 30\nmax_auth_per_address = 2\nmax_concurrent_hashes = 8\nhash_wait = \"2s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Submission; s.MaxConnectionsPerAddress != 0 || s.ConnectionRatePerAddress != 30 || s.MaxAuthPerAddress != 2 || s.MaxConcurrentHashes != 8 || s.HashWait.Std() != 2*time.Second {
		t.Fatalf("read %+v", s)
	}
	for _, tc := range []struct{ body, want string }{
		{"max_connections_per_address = -1", "submission.max_connections_per_address"},
		{"connection_rate_per_address = -1", "submission.connection_rate_per_address"},
		{"max_concurrent_hashes = -2", "submission.max_concurrent_hashes"},
		{"max_auth_per_address = 0", "submission.max_auth_per_address"},
		{"hash_wait = \"0s\"", "submission.hash_wait"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if _, err := Load(write(t, "[submission]\n"+tc.body+"\n")); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}
