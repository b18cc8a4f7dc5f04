package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mailroom.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad_Defaults(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if c.DataPath() != filepath.Join(wd, "data") || c.Submission.Listen != ":587" || c.Submission.ListenTLS != ":465" ||
		c.Submission.MaxMessageBytes != 36700160 || c.HTTP.Listen != "127.0.0.1:8080" || c.Hostname == "" ||
		c.Addresses.PlusSeparator != "+" || c.Retention.SweepInterval.Std() != time.Hour ||
		c.Submission.CommandTimeout.Std() != 5*time.Minute || c.Submission.DataTimeout.Std() != 10*time.Minute {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestLoad_File(t *testing.T) {
	p := write(t, `data_dir = "state"
hostname = "mx.example.com"
[submission]
listen = "127.0.0.1:2587"
listen_tls = ""
max_message_bytes = 1000
shutdown_grace = "3s"
[http]
listen = ""
[addresses]
plus_separator = ""
[delivery]
postmaster = "Ops@Example.com"
`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataPath() != filepath.Join(filepath.Dir(p), "state") {
		t.Errorf("data_dir not relative to the config file: %s", c.DataPath())
	}
	if c.Hostname != "mx.example.com" || c.Submission.ListenTLS != "" || c.Submission.MaxMessageBytes != 1000 ||
		c.Submission.ShutdownGrace.Std() != 3*time.Second || c.HTTP.Listen != "" || c.Addresses.PlusSeparator != "" || c.Delivery.Postmaster != "Ops@Example.com" {
		t.Fatalf("loaded: %+v", c)
	}
}

func TestLoad_Store(t *testing.T) {
	c, err := Load("")
	if err != nil || c.Store.Driver != DriverSQLite || c.Store.DSN != "" || c.Store.Bodies != BodiesAuto || c.Store.InlineBodyMax != 262144 {
		t.Fatalf("default store: %+v, %v", c.Store, err)
	}
	c, err = Load(write(t, "[store]\nbodies = \"files\"\ninline_body_max = 0\n"))
	if err != nil || c.Store.Bodies != BodiesFiles || c.Store.InlineBodyMax != 0 {
		t.Fatalf("bodies = files: %+v, %v", c.Store, err)
	}
	const dsn = "postgres://mailroom:pw@db.example.com/mailroom?sslmode=verify-full"
	c, err = Load(write(t, "[store]\ndriver = \"postgres\"\ndsn = \""+dsn+"\"\n"))
	if err != nil || c.Store.Driver != DriverPostgres || c.Store.DSN != dsn {
		t.Fatalf("postgres store: %+v, %v", c.Store, err)
	}
	// A refused DSN is not echoed: it may hold a password.
	_, err = Load(write(t, "[store]\ndsn = \""+dsn+"\"\n"))
	if err == nil || strings.Contains(err.Error(), "pw@") {
		t.Fatalf("dsn with the sqlite driver: %v", err)
	}
}

func TestLoad_Errors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"unknown key", "[submission]\nlisen = \":587\"\n", "lisen"},
		{"bad duration", "[submission]\nshutdown_grace = \"soon\"\n", "shutdown_grace"},
		{"bad listen", "[submission]\nlisten = \"587\"\n", "submission.listen"},
		{"negative size", "[submission]\nmax_message_bytes = -1\n", "max_message_bytes"},
		{"zero timeout", "[submission]\ndata_timeout = \"0s\"\n", "data_timeout"},
		{"zero header limit", "[submission]\nmax_header_bytes = 0\n", "submission.max_header_bytes"},
		{"huge header limit", "[submission]\nmax_header_bytes = 67108865\n", "submission.max_header_bytes"},
		{"half a cert", "[tls]\ncert_file = \"c.pem\"\n", "tls.cert_file"},
		{"bad level", "[log]\nlevel = \"loud\"\n", "log.level"},
		{"bad separator", "[addresses]\nplus_separator = \"@\"\n", "plus_separator"},
		{"dash separator", "[addresses]\nplus_separator = \"-\"\n", "addresses.plus_separator"},
		{"postmaster without a domain", "[delivery]\npostmaster = \"postmaster\"\n", "delivery.postmaster"},
		{"postmaster with a space", "[delivery]\npostmaster = \"ad min@example.com\"\n", "delivery.postmaster"},
		{"postmaster over 254 octets", "[delivery]\npostmaster = \"" + strings.Repeat("a", 243) + "@example.com\"\n", "delivery.postmaster"},
		{"postmaster in [addresses]", "[addresses]\npostmaster = \"it@example.com\"\n", "postmaster"},
		{"hostname with a newline", "hostname = \"mx.example.com\\r\\n250 fake\"\n", "hostname"},
		{"hostname with a space", "hostname = \"mx example.com\"\n", "hostname"},
		{"hostname with DEL", "hostname = \"mx\\u007f.example.com\"\n", "hostname"},
		{"hostname over 255 octets", "hostname = \"" + strings.Repeat("a", 256) + "\"\n", "hostname"},
		{"syntax", "data_dir = \n", "mailroom.toml:1"},
		{"unknown driver", "[store]\ndriver = \"mysql\"\n", "store.driver"},
		{"postgres without dsn", "[store]\ndriver = \"postgres\"\n", "store.dsn"},
		{"dsn without postgres", "[store]\ndsn = \"postgres://u:pw@db/m\"\n", "store.dsn"},
		{"unknown bodies", "[store]\nbodies = \"s3\"\n", "store.bodies"},
		{"inline body too large", "[store]\ninline_body_max = 2000000\n", "store.inline_body_max"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Error("a missing config file was accepted")
	}
	var fe *FieldError
	if _, err := Load(write(t, "[log]\nformat = \"xml\"\n")); !errors.As(err, &fe) || fe.Key != "log.format" {
		t.Errorf("FieldError not returned: %v", err)
	}
	if _, err := Load(write(t, "hostname = \"mx\\texample.com\"\n")); !errors.As(err, &fe) || fe.Key != "hostname" {
		t.Errorf("hostname with a tab: %v, want a FieldError on hostname", err)
	}
	if _, err := Load(write(t, "hostname = \""+strings.Repeat("a", 255)+"\"\n")); err != nil {
		t.Errorf("hostname of 255 octets refused: %v", err)
	}
}

func TestStore_LeaseTTL(t *testing.T) {
	c := Default()
	if got := c.Store.LeaseTTL.Std(); got != 30*time.Second {
		t.Fatalf("default lease_ttl %v, want 30s", got)
	}
	c.Store = Store{Driver: DriverPostgres, DSN: "postgres://db/mailroom", LeaseTTL: Duration(500 * time.Millisecond)}
	var fe *FieldError
	if err := c.Validate(); !errors.As(err, &fe) || fe.Key != "store.lease_ttl" {
		t.Fatalf("lease_ttl 500ms: %v, want a store.lease_ttl error", err)
	}
	c.Store.LeaseTTL = Duration(5 * time.Second)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
