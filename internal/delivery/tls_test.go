package delivery_test

import (
	"strings"
	"testing"
	"time"

	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

func TestDeliver_OpportunisticSTARTTLS(t *testing.T) {
	r := testkit.NewRemote(t)
	// Self-signed and for another name: opportunistic TLS still encrypts.
	mx := r.MX(t, "remote.test", testkit.MXOptions{TLS: testkit.NewCert(t, "other.example").TLS})
	plain := r.MX(t, "plain.test", testkit.MXOptions{})
	s := testkit.Start(t, fixture, testkit.WithRemote(r))
	s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@remote.test", "pat@plain.test"}, "Subject: tls\n\nx\n")
	testkit.Eventually(t, "both MX servers receive", func() bool { return len(mx.Accepted()) == 1 && len(plain.Accepted()) == 1 })
	if !mx.Accepted()[0].TLS {
		t.Error("STARTTLS was offered but the message came in clear text")
	}
	if plain.Accepted()[0].TLS {
		t.Error("TLS reported by a server that offers none")
	}
}

func TestDeliver_RequireTLS(t *testing.T) {
	r := testkit.NewRemote(t)
	cert := testkit.NewCert(t, "mx.remote.test")
	mx := r.MX(t, "remote.test", testkit.MXOptions{TLS: cert.TLS})
	plain := r.MX(t, "plain.test", testkit.MXOptions{})
	wrongName := r.MX(t, "wrong.test", testkit.MXOptions{TLS: testkit.NewCert(t, "elsewhere.test").TLS})
	s := testkit.Start(t, fixture, testkit.WithRemote(r), withDelivery(func(d *config.Delivery) {
		d.RequireTLS = true
		d.TLSCAFile = cert.CAFile
	}))
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@remote.test", "pat@plain.test", "w@wrong.test"}, "Subject: tls\n\nx\n")
	waitState(t, s, id, map[string]string{"bob@remote.test": store.StateDelivered})
	testkit.Eventually(t, "the others have been attempted twice", func() bool {
		return row(t, s, id, "pat@plain.test").Attempts >= 2 && row(t, s, id, "w@wrong.test").Attempts >= 2
	})
	if got := mx.Accepted(); len(got) != 1 || !got[0].TLS {
		t.Fatalf("verified MX got %+v", got)
	}
	for rc, want := range map[string]string{"pat@plain.test": "STARTTLS not offered", "w@wrong.test": "certificate"} {
		rw := row(t, s, id, rc)
		if rw.State != store.StateQueued || !strings.HasPrefix(rw.LastReply, "451 4.4.1") || !strings.Contains(rw.LastReply, want) {
			t.Errorf("%s: %+v, want it queued with a 451 naming %q", rc, rw, want)
		}
	}
	if len(plain.Messages()) != 0 || len(wrongName.Messages()) != 0 {
		t.Error("a message went to a server without verified TLS")
	}
}

func TestDeliver_Smarthost(t *testing.T) {
	for _, mode := range []string{config.TLSStartTLS, config.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			cert := testkit.NewCert(t)
			relay := testkit.StartMX(t, "127.0.0.1:0", testkit.MXOptions{
				TLS: cert.TLS, ImplicitTLS: mode == config.TLSImplicit, Users: map[string]string{"relay-user": "relay-pass"},
			})
			s := testkit.Start(t, fixture, withDelivery(func(d *config.Delivery) {
				d.Smarthost = relay.Addr
				d.SmarthostTLS = mode
				d.SmarthostUsername, d.SmarthostPassword = "relay-user", "relay-pass"
				d.TLSCAFile = cert.CAFile
			}))
			// far.test is in no DNS: the smarthost route needs none.
			id := s.Send("alice@example.test", pw, "alice@example.test", []string{"x@far.test", "y@other.far.test"}, "Subject: relayed\n\nx\n")
			waitState(t, s, id, map[string]string{"x@far.test": store.StateDelivered, "y@other.far.test": store.StateDelivered})
			for _, m := range relay.Accepted() {
				if m.User != "relay-user" || !m.TLS || m.From != "alice@example.test" {
					t.Errorf("relay got %+v, want AUTH as relay-user over TLS", m)
				}
			}
		})
	}
}

func TestDeliver_SmarthostWrongPasswordWaits(t *testing.T) {
	cert := testkit.NewCert(t)
	relay := testkit.StartMX(t, "127.0.0.1:0", testkit.MXOptions{TLS: cert.TLS, Users: map[string]string{"u": "right"}})
	s := testkit.Start(t, fixture, withDelivery(func(d *config.Delivery) {
		d.RetrySchedule = []config.Duration{config.Duration(20 * time.Millisecond)}
		d.Smarthost = relay.Addr
		d.SmarthostUsername, d.SmarthostPassword = "u", "wrong"
		d.TLSCAFile = cert.CAFile
	}))
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"x@far.test"}, "Subject: relayed\n\nx\n")
	testkit.Eventually(t, "two attempts", func() bool { return row(t, s, id, "x@far.test").Attempts >= 2 })
	// A configuration mistake must not bounce mail: it waits.
	if rw := row(t, s, id, "x@far.test"); rw.State != store.StateQueued || !strings.Contains(rw.LastReply, "535") {
		t.Errorf("row %+v, want queued with the 535", rw)
	}
}
