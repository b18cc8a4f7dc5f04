package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocate(t *testing.T) {
	dir, sys := t.TempDir(), filepath.Join(t.TempDir(), "system.toml")
	local := filepath.Join(dir, LocalName)
	env := filepath.Join(t.TempDir(), "env.toml")
	for _, p := range []string{sys, env} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name      string
		s         Search
		local     bool
		want      Found
		wantError string
	}{
		{"flag first", Search{Flag: "/x.toml", Env: env, Dir: dir, System: sys}, true, Found{"/x.toml", "--config"}, ""},
		{"then the environment", Search{Env: env, Dir: dir, System: sys}, true, Found{env, "$MAILROOM_CONFIG"}, ""},
		{"environment names a missing file", Search{Env: env + ".gone", Dir: dir, System: sys}, true, Found{}, "$MAILROOM_CONFIG=" + env + ".gone"},
		{"then the working directory", Search{Dir: dir, System: sys}, true, Found{local, "./mailroom.toml"}, ""},
		{"then the system file", Search{Dir: dir, System: sys}, false, Found{sys, sys}, ""},
		{"none", Search{Dir: dir}, false, Found{}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.Remove(local)
			if c.local {
				if err := os.WriteFile(local, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Locate(c.s)
			if c.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantError) {
					t.Fatalf("err %v, want one naming %q", err, c.wantError)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Locate = %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
	if got := (Search{Dir: dir, System: sys}).Looked(); !strings.Contains(got, local+" (no such file)") || !strings.Contains(got, sys) {
		t.Errorf("Looked = %q", got)
	}
}

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"1d", 24 * time.Hour, true},
		{"30d", 30 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"12h", 12 * time.Hour, true},
		{"90s", 90 * time.Second, true},
		{"3650d", 3650 * 24 * time.Hour, true},
		{"3651d", 0, false},
		{"99999999999999999999d", 0, false},
		{"-1d", 0, false},
		{"+1d", 0, false},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"1d-1h", 0, false},
		{"1dd", 0, false},
		{"1w", 0, false},
		{"", 0, false},
		{strings.Repeat("1", 65) + "s", 0, false},
	} {
		got, err := ParseDuration(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
		if c.ok {
			if back, err := ParseDuration(FormatDuration(got)); err != nil || back != got {
				t.Errorf("FormatDuration(%v) = %q does not read back: %v, %v", got, FormatDuration(got), back, err)
			}
		}
	}
	for d, want := range map[time.Duration]string{0: "0", 24 * time.Hour: "1d", 720 * time.Hour: "30d", 36 * time.Hour: "1d12h0m0s", 90 * time.Second: "1m30s"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestLoad_DurationInDays: duration keys of the file take days.
func TestLoad_DurationInDays(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mailroom.toml")
	if err := os.WriteFile(p, []byte("[trace]\nretention = \"30d\"\n[delivery]\nmax_age = \"5d\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Trace.Retention.Std() != 30*24*time.Hour || c.Delivery.MaxAge.Std() != 5*24*time.Hour {
		t.Fatalf("trace.retention %v, delivery.max_age %v", c.Trace.Retention.Std(), c.Delivery.MaxAge.Std())
	}
}
