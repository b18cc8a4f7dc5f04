// Package acme owns the certificate mailroom obtains from an ACME CA
// (RFC 8555): the account, the order, the challenge, renewal in the
// background when a third of the lifetime is left, and the certificate
// each TLS handshake is given. It is built on certmagic, the library
// Caddy manages its certificates with, and does what Caddy does: one
// certificate per name, renewal that never drops a connection (new
// handshakes get the new certificate, open connections keep theirs), and
// a lock in the Storage so that, of several nodes sharing it, one renews
// and the others load its result. It does not listen on the mail ports:
// listeners use GetCertificate.
package acme

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/caddyserver/certmagic"
)

// Challenges Options.Challenge accepts.
const (
	TLSALPN01 = "tls-alpn-01" // RFC 8737: the CA connects to port 443 of each name
	HTTP01    = "http-01"     // RFC 8555 §8.3: the CA connects to port 80
	DNS01     = "dns-01"      // RFC 8555 §8.4: a TXT record, added by Options.DNS
)

// Options configure Start.
type Options struct {
	// Names are the names to hold certificates for, hostname first; a
	// handshake without a server name, or with one not in Names, gets
	// the first name's certificate.
	Names []string
	// Directory is the CA's directory URL.
	Directory string
	// Email is the account's contact, "" for none.
	Email string
	// Challenge is TLSALPN01, HTTP01 or DNS01.
	Challenge string
	// DNS adds and removes the dns-01 TXT records; DNS01 only.
	DNS *RFC2136
	// DNSResolvers are the resolvers (host:port) that find the zone and
	// check the record is visible; nil asks the system's resolvers
	// for the zone and its authoritative servers for the record.
	DNSResolvers []string
	// ChallengeListen is host:port where the challenge is answered while
	// it is open; "" is the challenge's own port (443 or 80).
	ChallengeListen string
	// Roots are trusted for the CA's HTTPS; nil is the system roots.
	Roots *x509.CertPool
	// Storage holds the account, the certificates and the locks; nodes
	// that share it share one certificate.
	Storage certmagic.Storage
	// CheckInterval is how often the certificates are checked for
	// renewal; 0 is certmagic's ten minutes. Tests shorten it.
	CheckInterval time.Duration
	Log           *slog.Logger
}

// Manager holds the certificates of Options.Names and keeps them renewed
// until Stop.
type Manager struct {
	names []string
	cache *certmagic.Cache
	cfg   *certmagic.Config
	log   *slog.Logger
}

// Start loads the certificates Storage already holds and, in the
// background, obtains those it lacks and renews them from then on; it
// does not wait for the CA (as Caddy, a CA that is down must not keep the
// server from starting). Until a name's first certificate arrives,
// handshakes fail; Leaf says when one is there.
func Start(ctx context.Context, o Options) (*Manager, error) {
	if len(o.Names) == 0 {
		return nil, errors.New("acme: no names")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Manager{names: o.Names, log: log}
	var cfg *certmagic.Config
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return cfg, nil },
		RenewCheckInterval: o.CheckInterval,
		Logger:             newZap(log),
	})
	cfg = certmagic.New(m.cache, certmagic.Config{
		Storage:            o.Storage,
		DefaultServerName:  o.Names[0],
		FallbackServerName: o.Names[0],
		Logger:             newZap(log),
		OnEvent:            m.onEvent,
	})
	iss := certmagic.ACMEIssuer{
		CA: o.Directory, Email: o.Email, Agreed: true, TrustedRoots: o.Roots,
		Logger: newZap(log),
	}
	host, port, err := challengeListen(o.ChallengeListen)
	if err != nil {
		m.cache.Stop()
		return nil, err
	}
	iss.ListenHost = host
	switch o.Challenge {
	case TLSALPN01:
		iss.DisableHTTPChallenge, iss.AltTLSALPNPort = true, port
	case HTTP01:
		iss.DisableTLSALPNChallenge, iss.AltHTTPPort = true, port
	case DNS01:
		if o.DNS == nil {
			m.cache.Stop()
			return nil, errors.New("acme: dns-01 without a DNS server to update")
		}
		iss.DNS01Solver = &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{
			DNSProvider: o.DNS, Resolvers: o.DNSResolvers, Logger: newZap(log),
		}}
	default:
		m.cache.Stop()
		return nil, fmt.Errorf("acme: challenge %q: want %s, %s or %s", o.Challenge, TLSALPN01, HTTP01, DNS01)
	}
	cfg.Issuers = []certmagic.Issuer{certmagic.NewACMEIssuer(cfg, iss)}
	m.cfg = cfg
	if err := cfg.ManageAsync(ctx, o.Names); err != nil {
		m.cache.Stop()
		return nil, fmt.Errorf("acme: manage %v: %w", o.Names, err)
	}
	return m, nil
}

// challengeListen splits tls.acme_challenge_listen; port 0 is the
// challenge's own.
func challengeListen(addr string) (string, int, error) {
	if addr == "" {
		return "", 0, nil
	}
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("acme: challenge listen %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("acme: challenge listen %q: bad port", addr)
	}
	return host, port, nil
}

// onEvent logs the outcomes of orders at Info (and failures at Error);
// certmagic's own lines are Debug.
func (m *Manager) onEvent(_ context.Context, event string, data map[string]any) error {
	switch event {
	case "cert_obtained":
		m.log.Info("acme certificate obtained", "name", data["identifier"], "renewal", data["renewal"], "issuer", data["issuer"])
	case "cert_failed":
		m.log.Error("acme certificate not obtained", "name", data["identifier"], "renewal", data["renewal"], "err", data["error"])
	}
	return nil
}

// GetCertificate is tls.Config.GetCertificate: the newest certificate of
// the name the client asked for, or of the first name.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.cfg.GetCertificate(hello)
}

// Leaf returns the certificate handshakes for name are given now, nil
// before the first one is obtained.
func (m *Manager) Leaf(name string) *x509.Certificate {
	var newest *x509.Certificate
	for _, c := range m.cache.AllMatchingCertificates(name) {
		if c.Leaf != nil && (newest == nil || c.Leaf.NotAfter.After(newest.NotAfter)) {
			newest = c.Leaf
		}
	}
	return newest
}

// Names returns the names the manager holds certificates for.
func (m *Manager) Names() []string { return m.names }

// Stop ends renewal. Handshakes keep getting the certificates in memory.
func (m *Manager) Stop() { m.cache.Stop() }
