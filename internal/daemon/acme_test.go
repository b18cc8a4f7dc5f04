package daemon_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailroom/internal/config"
	"mailroom/internal/daemon"
	"mailroom/internal/dnscheck"
	"mailroom/internal/testkit"
)

// TestACME_IssuesAndRenews runs Pebble, Let's Encrypt's test CA, and a
// daemon with tls.acme on: the daemon answers the tls-alpn-01 challenge
// for real (Pebble resolves mail.example.test through the test's DNS),
// both submission listeners present the issued certificate (verified up
// to Pebble's root), and when a third of its 30-second lifetime is left
// the daemon renews it: new handshakes get the new one, a connection
// opened before goes on, and /metrics follows.
func TestACME_IssuesAndRenews(t *testing.T) {
	dns := testkit.StartDNS(t)
	dns.Add(t, "mail.example.test. A 127.0.0.1")
	peb := testkit.StartPebble(t, testkit.PebbleOptions{DNS: dns.Addr, Validity: 30 * time.Second})
	s := testkit.StartWith(t, fixture, func(o *daemon.Options) { o.ACMECheckInterval = time.Second }, withPebble(peb))
	client := &tls.Config{RootCAs: peb.Roots(t), ServerName: "mail.example.test"}

	first := awaitServed(t, s, client, nil)
	starttls := func() *x509.Certificate {
		c := testkit.Dial(t, s.Addr(daemon.ListenSubmission))
		defer c.Close()
		c.MustCmd("EHLO client.example.test", 250, "")
		c.StartTLS(client)
		return c.PeerCertificate()
	}
	if got := starttls(); !got.Equal(first) {
		t.Fatalf("STARTTLS presents serial %s, implicit TLS %s", got.SerialNumber, first.SerialNumber)
	}
	if got := expiryMetric(t, s); got != first.NotAfter.Unix() {
		t.Fatalf("expiry metric %d, want %d", got, first.NotAfter.Unix())
	}
	// doctor, trusting Pebble's root: the names are right (else Wrong);
	// the 30-second lifetime is under its 14 days.
	doc := dnscheck.ServedCertificate(context.Background(), s.Addr(daemon.ListenTLS), []string{"mail.example.test"}, client.RootCAs, time.Now())
	if doc.Status != dnscheck.Warn || !strings.Contains(doc.Note, "expires in") {
		t.Fatalf("doctor: %+v", doc)
	}

	before := testkit.DialTLS(t, s.Addr(daemon.ListenTLS), client)
	before.MustCmd("EHLO client.example.test", 250, "")

	second := awaitServed(t, s, client, first)
	if !second.NotAfter.After(first.NotAfter) {
		t.Fatalf("renewed certificate expires %s, the first %s", second.NotAfter, first.NotAfter)
	}
	before.MustCmd("NOOP", 250, "2.0.0")
	if got := before.PeerCertificate(); !got.Equal(first) {
		t.Fatalf("the open connection's certificate changed")
	}
	if got := starttls(); !got.Equal(second) {
		t.Fatalf("STARTTLS after renewal presents serial %s, want %s", got.SerialNumber, second.SerialNumber)
	}
	if got := expiryMetric(t, s); got != second.NotAfter.Unix() {
		t.Fatalf("expiry metric after renewal %d, want %d", got, second.NotAfter.Unix())
	}
}

// withPebble turns tls.acme on with Pebble as the CA, answering its
// tls-alpn-01 challenge on the port Pebble connects to.
func withPebble(peb *testkit.Pebble) testkit.Option {
	return func(c *config.Config) {
		c.TLS.ACME = true
		c.TLS.ACMEDirectory = peb.Directory
		c.TLS.ACMECAFile = peb.CAFile
		c.TLS.ACMEChallengeListen = fmt.Sprintf("127.0.0.1:%d", peb.TLSPort)
	}
}

// awaitServed waits until an implicit-TLS handshake that verifies against
// client's roots presents a certificate other than old, and returns it.
func awaitServed(t *testing.T, s *testkit.Server, client *tls.Config, old *x509.Certificate) *x509.Certificate {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last error
	for time.Now().Before(deadline) {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.Addr(daemon.ListenTLS), client)
		if err == nil {
			leaf := c.ConnectionState().PeerCertificates[0]
			c.Close()
			if old == nil || !leaf.Equal(old) {
				return leaf
			}
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no new certificate served within 2 minutes (last handshake: %v)", last)
	return nil
}

// expiryMetric reads mailroom_tls_certificate_expiry_timestamp_seconds
// for the hostname from /metrics.
func expiryMetric(t *testing.T, s *testkit.Server) int64 {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr(daemon.ListenHTTP) + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	prefix := `mailroom_tls_certificate_expiry_timestamp_seconds{name="mail.example.test"} `
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %q: %v", sc.Text(), err)
			}
			return int64(f)
		}
	}
	t.Fatalf("/metrics has no %s", prefix)
	return 0
}

// TestDoctor_SelfSigned: doctor finds the default self-signed certificate
// covers hostname but warns that clients do not trust it; /metrics has
// its expiry.
func TestDoctor_SelfSigned(t *testing.T) {
	s := testkit.Start(t, fixture)
	doc := dnscheck.ServedCertificate(context.Background(), s.Addr(daemon.ListenTLS), []string{"mail.example.test"}, nil, time.Now())
	if doc.Status != dnscheck.Warn || !strings.Contains(doc.Note, "not trusted") {
		t.Fatalf("doctor: %+v", doc)
	}
	c := testkit.DialTLS(t, s.Addr(daemon.ListenTLS), s.TLSConfig())
	if got, want := expiryMetric(t, s), c.PeerCertificate().NotAfter.Unix(); got != want {
		t.Fatalf("expiry metric of the self-signed certificate: %d, want %d", got, want)
	}
}
