package daemon

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"mailroom/internal/config"
)

// loadOrMakeCert loads the configured certificate, or (none configured) the
// self-signed one in dataDir/tls, making it on first start: ECDSA P-256,
// valid for ten years, for hostname, localhost and the loopback addresses.
func loadOrMakeCert(certFile, keyFile, dataDir, hostname string) (tls.Certificate, error) {
	if certFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return c, fmt.Errorf("load tls.cert_file %s / tls.key_file %s: %w", certFile, keyFile, err)
		}
		return c, nil
	}
	dir := filepath.Join(dataDir, "tls")
	certFile, keyFile = SelfSignedCertFile(dataDir), filepath.Join(dir, "key.pem")
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return c, fmt.Errorf("load self-signed certificate: %w", err)
	}
	if err := makeSelfSigned(dir, certFile, keyFile, hostname); err != nil {
		return c, err
	}
	return tls.LoadX509KeyPair(certFile, keyFile)
}

// SelfSignedCertFile is the self-signed certificate a server with no
// [tls] certificate makes in data_dir (the file clients are told to trust).
func SelfSignedCertFile(dataDir string) string { return filepath.Join(dataDir, "tls", "cert.pem") }

// CertFile is the certificate file the daemon serves under cfg and
// whether it is the self-signed one: tls.cert_file, else the self-signed
// certificate in data_dir; "" with ACME (a public CA's, trusted as it is).
func CertFile(cfg config.Config) (path string, selfSigned bool) {
	switch {
	case cfg.TLS.ACME:
		return "", false
	case cfg.TLS.CertFile != "":
		return cfg.Path(cfg.TLS.CertFile), false
	}
	return SelfSignedCertFile(cfg.DataPath()), true
}

func makeSelfSigned(dir, certFile, keyFile, hostname string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create tls dir: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return fmt.Errorf("serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hostname, Organization: []string{"mailroom self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{hostname, "localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	if err := writeFileSync(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return err
	}
	return writeFileSync(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// writeFileSync writes a file durably, so a crash never leaves half a key.
func writeFileSync(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return nil
}
