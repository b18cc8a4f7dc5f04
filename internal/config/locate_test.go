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

// TestLoad_DurationInDays: duration keys of the file take days.
func TestLoad_DurationInDays(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mailroom.toml")
	if err := os.WriteFile(p, []byte("[trace]\nretention = \"30d\"\n[delivery]\nmax_age = \"5 days\"\n"), 0o600); err != nil {
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
