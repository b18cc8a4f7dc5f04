package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/caddyserver/certmagic"

	"mailroom/internal/acme"
	"mailroom/internal/config"
	"mailroom/internal/store"
)

// certificates is where every TLS listener's certificate comes from
// (submission, implicit TLS, and any listener added later): the ACME
// manager's, renewed in the background, or one fixed certificate (the
// configured files or the self-signed one). Listeners take it through
// tls.Config.GetCertificate, so a renewed certificate reaches the next
// handshake without a restart and open connections keep theirs.
type certificates struct {
	fixed *tls.Certificate // nil with ACME
	acme  *acme.Manager
	names []string // the names the certificate is for, hostname first
}

// startCertificates builds the certificate source from [tls]. ACME runs
// until stop; it keeps its account, certificates and locks in st when
// st is PostgreSQL (every node of a cluster serves the same certificate
// and one renews it), else in data_dir/acme.
func startCertificates(ctx context.Context, o Options, st store.Store) (*certificates, error) {
	cfg := o.Config
	if !cfg.TLS.ACME {
		cert, err := loadOrMakeCert(cfg.Path(cfg.TLS.CertFile), cfg.Path(cfg.TLS.KeyFile), cfg.DataPath(), cfg.Hostname)
		if err != nil {
			return nil, err
		}
		if cert.Leaf == nil && len(cert.Certificate) > 0 {
			if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				return nil, fmt.Errorf("parse certificate: %w", err)
			}
		}
		return &certificates{fixed: &cert, names: []string{cfg.Hostname}}, nil
	}
	var roots *x509.CertPool
	if f := cfg.TLS.ACMECAFile; f != "" {
		pem, err := os.ReadFile(cfg.Path(f))
		if err != nil {
			return nil, fmt.Errorf("tls.acme_ca_file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.acme_ca_file %s: no PEM certificate in it", f)
		}
	}
	dns, err := acmeDNS(cfg)
	if err != nil {
		return nil, err
	}
	storage, err := acmeStorage(&cfg, st)
	if err != nil {
		return nil, err
	}
	names := cfg.ACMEDomains()
	m, err := acme.Start(ctx, acme.Options{
		DNS:   dns,
		Names: names, Directory: cfg.TLS.ACMEDirectory, Email: cfg.TLS.ACMEEmail,
		Challenge: cfg.TLS.ACMEChallenge, ChallengeListen: cfg.TLS.ACMEChallengeListen, Roots: roots,
		Storage:       storage,
		CheckInterval: o.ACMECheckInterval, Log: o.Log,
	})
	if err != nil {
		return nil, err
	}
	return &certificates{acme: m, names: names}, nil
}

// acmeDNS is the dns-01 provider [tls] configures, nil with the other
// challenges; the TSIG secret may come from a file.
func acmeDNS(cfg config.Config) (*acme.RFC2136, error) {
	t := cfg.TLS
	if t.ACMEChallenge != config.ChallengeDNS {
		return nil, nil
	}
	secret := t.ACMEDNSTSIGSecret
	if f := t.ACMEDNSTSIGSecretFile; f != "" {
		b, err := os.ReadFile(cfg.Path(f))
		if err != nil {
			return nil, fmt.Errorf("tls.acme_dns_tsig_secret_file: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	return &acme.RFC2136{Server: t.ACMEDNSServer, Zone: t.ACMEDNSZone, TSIGName: t.ACMEDNSTSIGName, TSIGSecret: secret}, nil
}

// acmeStorage is where ACME keeps its account, certificates and locks:
// the PostgreSQL database the nodes of a cluster share, or data_dir/acme
// of the one SQLite node.
func acmeStorage(cfg *config.Config, st store.Store) (certmagic.Storage, error) {
	if cfg.Store.Driver != config.DriverPostgres {
		return &certmagic.FileStorage{Path: filepath.Join(cfg.DataPath(), "acme")}, nil
	}
	db, ok := st.(acme.DB)
	if !ok {
		return nil, fmt.Errorf("tls.acme: store %T keeps no ACME storage", st)
	}
	return acme.NewDBStorage(db), nil
}

// GetCertificate is tls.Config.GetCertificate for every listener.
func (c *certificates) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if c.fixed != nil {
		return c.fixed, nil
	}
	return c.acme.GetCertificate(hello)
}

// Leaf returns the certificate served for name now; nil while ACME has
// not obtained it yet.
func (c *certificates) Leaf(name string) *x509.Certificate {
	if c.fixed != nil {
		return c.fixed.Leaf
	}
	return c.acme.Leaf(name)
}

// stop ends ACME renewal.
func (c *certificates) stop() {
	if c.acme != nil {
		c.acme.Stop()
	}
}
