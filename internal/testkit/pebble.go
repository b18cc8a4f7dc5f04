package testkit

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Pebble is Let's Encrypt's test ACME server, running for one test.
type Pebble struct {
	// Directory is the ACME directory URL (tls.acme_directory).
	Directory string
	// CAFile holds the root of Pebble's own HTTPS certificate
	// (tls.acme_ca_file).
	CAFile string
	// TLSPort is where Pebble's validation authority connects to answer
	// tls-alpn-01 challenges (tls.acme_challenge_listen).
	TLSPort int
	mgmt    string
	client  *http.Client
}

// PebbleOptions configure StartPebble.
type PebbleOptions struct {
	// DNS is the DNS server (host:port) Pebble resolves names with, to
	// reach the server it validates; "" when AlwaysValid.
	DNS string
	// AlwaysValid makes Pebble accept every challenge without checking it
	// (PEBBLE_VA_ALWAYS_VALID), for a server that cannot be reached.
	AlwaysValid bool
	// Validity is the lifetime of the certificates Pebble issues; 0 is
	// Pebble's default (five years).
	Validity time.Duration
}

// StartPebble runs Debian's pebble (or one `go install`ed from
// github.com/letsencrypt/pebble/v2/cmd/pebble) on 127.0.0.1 ports, with
// an HTTPS certificate of its own, and stops it when the test ends. The
// test is skipped when pebble is not installed (README "Run the tests":
// apt-get install pebble; CI installs it).
func StartPebble(tb testing.TB, o PebbleOptions) *Pebble {
	tb.Helper()
	bin, err := exec.LookPath("pebble")
	if err != nil {
		tb.Skip("pebble is not installed (apt-get install pebble): the ACME tests need a real ACME server")
	}
	dir := tb.TempDir()
	https := NewCert(tb, "localhost")
	key, err := x509.MarshalPKCS8PrivateKey(https.TLS.Certificates[0].PrivateKey)
	if err != nil {
		tb.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(tb, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: https.TLS.Certificates[0].Certificate[0]}))
	writeFile(tb, keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}))
	p := &Pebble{CAFile: https.CAFile, TLSPort: freePort(tb)}
	listen, mgmt := fmt.Sprintf("127.0.0.1:%d", freePort(tb)), fmt.Sprintf("127.0.0.1:%d", freePort(tb))
	p.Directory, p.mgmt = "https://"+listen+"/dir", "https://"+mgmt
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress": listen, "managementListenAddress": mgmt,
		"certificate": certFile, "privateKey": keyFile,
		"httpPort": freePort(tb), "tlsPort": p.TLSPort,
		"certificateValidityPeriod": uint64(o.Validity / time.Second),
	}}
	b, _ := json.Marshal(conf)
	confFile := filepath.Join(dir, "pebble.json")
	writeFile(tb, confFile, b)

	args := []string{"-config", confFile}
	if o.DNS != "" {
		args = append(args, "-dnsserver", o.DNS)
	}
	log := &syncBuffer{}
	cmd := exec.Command(bin, args...)
	// No random waits before validating, no nonces refused for practice:
	// the test is about mailroom, not about the client's retries.
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	if o.AlwaysValid {
		cmd.Env = append(cmd.Env, "PEBBLE_VA_ALWAYS_VALID=1")
	}
	exited := runForTest(tb, "pebble", cmd, log)
	leaf, err := x509.ParseCertificate(https.TLS.Certificates[0].Certificate[0])
	if err != nil {
		tb.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	p.client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			tb.Fatalf("pebble exited: %v\n%s", err, log.String())
		default:
		}
		resp, err := p.client.Get(p.Directory)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pebble not answering on %s: %v\n%s", p.Directory, err, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Roots returns the root Pebble issues under (made anew at each start),
// from its management interface: what a client trusts to verify a
// certificate Pebble issued.
func (p *Pebble) Roots(tb testing.TB) *x509.CertPool {
	tb.Helper()
	resp, err := p.client.Get(p.mgmt + "/roots/0")
	if err != nil {
		tb.Fatalf("pebble root: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("pebble root: %d %v", resp.StatusCode, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		tb.Fatalf("pebble root: no PEM in %q", b)
	}
	return pool
}

func writeFile(tb testing.TB, name string, b []byte) {
	tb.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// PeerCertificate returns the certificate the server presented, nil
// before TLS.
func (c *Conn) PeerCertificate() *x509.Certificate {
	if tc, ok := c.nc.(*tls.Conn); ok {
		if st := tc.ConnectionState(); len(st.PeerCertificates) > 0 {
			return st.PeerCertificates[0]
		}
	}
	return nil
}

// runForTest starts cmd, whose output goes to log, and kills it when the
// test ends, printing log if the test failed; the channel receives the
// end of the program (early, if it fails to start serving).
func runForTest(tb testing.TB, name string, cmd *exec.Cmd, log *syncBuffer) <-chan error {
	tb.Helper()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if tb.Failed() {
			tb.Logf("%s log:\n%s", name, log.String())
		}
	})
	return exited
}
