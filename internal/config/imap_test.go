package config

import (
	"errors"
	"testing"
	"time"
)

func TestLoad_IMAP(t *testing.T) {
	c, err := Load("")
	if err != nil || c.IMAP.Listen != "" || c.IMAP.ListenTLS != "" || c.IMAP.MaxIdle != 10000 || c.IMAP.IdleKeepalive.Std() != 2*time.Minute {
		t.Fatalf("default [imap] = %+v, %v; want off", c.IMAP, err)
	}
	c, err = Load(write(t, "[imap]\nlisten = \":143\"\nlisten_tls = \":993\"\n"))
	if err != nil || c.IMAP.Listen != ":143" || c.IMAP.ListenTLS != ":993" {
		t.Fatalf("[imap] listen = %+v, %v", c.IMAP, err)
	}
	for _, tc := range []struct{ body, key string }{
		{"[imap]\nlisten = \"143\"\n", "imap.listen"},
		{"[imap]\nlisten_tls = \"x\"\n", "imap.listen_tls"},
		{"[imap]\nmax_idle = 0\n", "imap.max_idle"},
		{"[imap]\nmax_connections_per_address = -1\n", "imap.max_connections_per_address"},
		{"[imap]\nidle_keepalive = \"0s\"\n", "imap.idle_keepalive"},
		{"[imap]\nidle_keepalive = \"30m\"\n", "imap.idle_keepalive"},
		{"[imap]\nlogin_timeout = \"0s\"\n", "imap.login_timeout"},
		{"[imap]\npreauth_bytes = 1023\n", "imap.preauth_bytes"},
	} {
		_, err := Load(write(t, tc.body))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Key != tc.key {
			t.Errorf("%q: %v, want a FieldError on %s", tc.body, err, tc.key)
		}
	}
}
