package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoad_Delivery(t *testing.T) {
	p := filepath.Join(t.TempDir(), "mailroom.toml")
	body := `[delivery]
smarthost = "relay.example.com:587"
smarthost_username = "u"
smarthost_password = "p"
retry_schedule = ["10ms", "1s"]
max_age = "1h"
delay_notice = "0s"
`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Delivery
	if d.Smarthost != "relay.example.com:587" || d.SmarthostTLS != TLSStartTLS || d.MXPort != 25 ||
		len(d.RetrySchedule) != 2 || d.RetrySchedule[0].Std() != 10*time.Millisecond ||
		d.MaxAge.Std() != time.Hour || d.DelayNotice != 0 || d.Workers != 16 {
		t.Fatalf("loaded [delivery] %+v", d)
	}
}

func TestValidate_Delivery(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Delivery)
		key  string
	}{
		{"smarthost without port", func(d *Delivery) { d.Smarthost = "relay.example.com" }, "delivery.smarthost"},
		{"resolver without port", func(d *Delivery) { d.Resolver = "127.0.0.1" }, "delivery.resolver"},
		{"unknown tls mode", func(d *Delivery) { d.SmarthostTLS = "tls" }, "delivery.smarthost_tls"},
		{"password in clear", func(d *Delivery) { d.SmarthostTLS = TLSNone; d.SmarthostUsername = "u" }, "delivery.smarthost_tls"},
		{"mx port", func(d *Delivery) { d.MXPort = 0 }, "delivery.mx_port"},
		{"empty schedule", func(d *Delivery) { d.RetrySchedule = nil }, "delivery.retry_schedule"},
		{"zero wait", func(d *Delivery) { d.RetrySchedule = []Duration{0} }, "delivery.retry_schedule"},
		{"max age", func(d *Delivery) { d.MaxAge = 0 }, "delivery.max_age"},
		{"negative delay notice", func(d *Delivery) { d.DelayNotice = -1 }, "delivery.delay_notice"},
		{"workers", func(d *Delivery) { d.Workers = 0 }, "delivery.workers"},
		{"destination connections", func(d *Delivery) { d.DestinationConnections = 0 }, "delivery.destination_connections"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.edit(&c.Delivery)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("got %v, want an error naming %s", err, tc.key)
			}
		})
	}
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
