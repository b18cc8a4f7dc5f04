package message

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIM key algorithms, as the k= tag of the key record names them.
const (
	DKIMEd25519 = "ed25519"
	DKIMRSA     = "rsa"
)

// rsaBits is the size of generated RSA keys: 2048, what RFC 8301 asks
// verifiers to accept and what every DNS provider can publish.
const rsaBits = 2048

// dkimHeaders are the header fields signed (RFC 6376 §5.4.1). A field
// listed but absent is signed as absent, so it cannot be added later
// without breaking the signature.
var dkimHeaders = []string{
	"From", "Sender", "Reply-To", "Subject", "Date", "Message-ID", "To", "Cc",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"In-Reply-To", "References",
}

// NewDKIMKey generates a private key for algorithm (DKIMEd25519 or
// DKIMRSA) and returns it PKCS #8, DER encoded.
func NewDKIMKey(algorithm string) ([]byte, error) {
	var key any
	var err error
	switch algorithm {
	case DKIMEd25519:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case DKIMRSA:
		key, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return nil, fmt.Errorf("dkim key algorithm %q: want ed25519 or rsa", algorithm)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s dkim key: %w", algorithm, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode %s dkim key: %w", algorithm, err)
	}
	return der, nil
}

// DKIMSigner is one key to sign with: the d= domain and s= selector.
type DKIMSigner struct {
	Domain   string
	Selector string
	Key      crypto.Signer
}

// ParseDKIMKey reads a PKCS #8 private key made by NewDKIMKey.
func ParseDKIMKey(domain, selector string, pkcs8 []byte) (DKIMSigner, error) {
	k, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return DKIMSigner{}, fmt.Errorf("dkim key %s of %s: %w", selector, domain, err)
	}
	switch k := k.(type) {
	case ed25519.PrivateKey:
		return DKIMSigner{domain, selector, k}, nil
	case *rsa.PrivateKey:
		return DKIMSigner{domain, selector, k}, nil
	}
	return DKIMSigner{}, fmt.Errorf("dkim key %s of %s: unsupported key type %T", selector, domain, k)
}

// DKIMRecord returns the TXT record that publishes the public half of a
// PKCS #8 private key: "v=DKIM1; k=ed25519; p=…" (RFC 8463) or
// "v=DKIM1; k=rsa; p=…" (RFC 6376 §3.6.1, SubjectPublicKeyInfo).
func DKIMRecord(pkcs8 []byte) (string, error) {
	s, err := ParseDKIMKey("", "", pkcs8)
	if err != nil {
		return "", err
	}
	switch pub := s.Key.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub), nil
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", fmt.Errorf("encode rsa public key: %w", err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	}
	return "", fmt.Errorf("unsupported public key type %T", s.Key.Public())
}

// DKIMRecordKey returns the k= and p= tags of a DKIM key record, to
// compare a published record with the key it should publish.
func DKIMRecordKey(record string) (k, p string) {
	k = "rsa" // RFC 6376 §3.6.1: the default
	for _, tag := range strings.Split(record, ";") {
		name, val, ok := strings.Cut(strings.TrimSpace(tag), "=")
		if !ok {
			continue
		}
		val = strings.Join(strings.Fields(val), "")
		switch strings.TrimSpace(name) {
		case "k":
			k = val
		case "p":
			p = val
		}
	}
	return k, p
}

// DKIMSign reads a whole message with CRLF line ends and returns the
// DKIM-Signature fields (relaxed/relaxed, SHA-256), one per signer, each
// ending in CRLF, to be written above the message's header.
func DKIMSign(r io.Reader, signers []DKIMSigner) ([]byte, error) {
	if len(signers) == 0 {
		return nil, nil
	}
	ws := make([]io.Writer, len(signers))
	ss := make([]*dkim.Signer, len(signers))
	for i, s := range signers {
		sg, err := dkim.NewSigner(&dkim.SignOptions{
			Domain:                 s.Domain,
			Selector:               s.Selector,
			Signer:                 s.Key,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed,
			BodyCanonicalization:   dkim.CanonicalizationRelaxed,
			HeaderKeys:             dkimHeaders,
		})
		if err != nil {
			return nil, fmt.Errorf("dkim signer %s of %s: %w", s.Selector, s.Domain, err)
		}
		ss[i], ws[i] = sg, sg
	}
	_, err := io.Copy(io.MultiWriter(ws...), r)
	var out bytes.Buffer
	for i, sg := range ss {
		if cerr := sg.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("dkim sign with %s: %w", signers[i].Selector, cerr)
		}
		if err == nil {
			out.WriteString(sg.Signature())
		}
	}
	if err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// CRLFWriter normalizes line ends to CRLF: a bare CR or a bare LF becomes
// CRLF, so no bare line-end character is ever relayed (RFC 5321 §2.3.8).
type CRLFWriter struct {
	W      io.Writer
	lastCR bool
	buf    []byte
}

// Write writes p with its line ends normalized. The count returned is of
// bytes of p consumed.
func (c *CRLFWriter) Write(p []byte) (int, error) {
	out := c.buf[:0]
	for _, b := range p {
		switch {
		case b == '\n' && c.lastCR:
			out = append(out, '\n')
			c.lastCR = false
		case b == '\n':
			out = append(out, '\r', '\n')
		case c.lastCR:
			// The CR before this byte was bare.
			out = append(out, '\n')
			c.lastCR = b == '\r'
			out = append(out, b)
		default:
			c.lastCR = b == '\r'
			out = append(out, b)
		}
	}
	c.buf = out
	if _, err := c.W.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close completes a CR left bare at the very end.
func (c *CRLFWriter) Close() error {
	if c.lastCR {
		c.lastCR = false
		_, err := c.W.Write([]byte{'\n'})
		return err
	}
	return nil
}
