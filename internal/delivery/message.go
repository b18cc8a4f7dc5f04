package delivery

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"mailroom/internal/address"
	"mailroom/internal/blob"
	"mailroom/internal/message"
	"mailroom/internal/queue"
	"mailroom/internal/store"
)

// prepared is a message ready to send: its DKIM signatures, computed once
// per attempt over the CRLF-normalized copy.
type prepared struct {
	blobs blob.Store
	key   string
	sig   []byte
	size  int64
}

// prepare reads env's header and signs the message when its From: domain
// has DKIM keys (the newest key of each algorithm).
func (d *Deliverer) prepare(ctx context.Context, env queue.Envelope) (*prepared, error) {
	p := &prepared{blobs: d.o.Blobs, key: env.Blob, size: env.Size}
	f, err := d.o.Blobs.Open(env.Blob)
	if err != nil {
		return nil, err
	}
	h, err := message.ReadHeaderMax(bufio.NewReader(f), d.o.MaxHeaderBytes)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("read header of %s: %w", env.Blob, err)
	}
	from, err := message.Addresses(h, "From")
	if err != nil || len(from) == 0 || d.o.Keys == nil {
		return p, nil
	}
	domain := address.DomainOf(from[0])
	keys, err := d.o.Keys.DKIMKeysOf(ctx, domain)
	if err != nil {
		return nil, fmt.Errorf("dkim keys of %s: %w", domain, err)
	}
	signers := d.signers(domain, keys)
	if len(signers) == 0 {
		return p, nil
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(p.writeBody(pw)) }()
	p.sig, err = message.DKIMSign(pr, signers)
	pr.Close()
	if err != nil {
		return nil, err
	}
	p.size += int64(len(p.sig))
	return p, nil
}

// signers picks the newest key of each algorithm.
func (d *Deliverer) signers(domain string, keys []store.DKIMKey) []message.DKIMSigner {
	newest := map[string]store.DKIMKey{}
	for _, k := range keys {
		newest[k.Algorithm] = k // keys come oldest first
	}
	var out []message.DKIMSigner
	for _, alg := range []string{store.DKIMEd25519, store.DKIMRSA} {
		k, ok := newest[alg]
		if !ok {
			continue
		}
		s, err := message.ParseDKIMKey(domain, k.Selector, k.PrivateKey)
		if err != nil {
			d.log.Error("unusable dkim key; not signing with it", "domain", domain, "selector", k.Selector, "err", err)
			continue
		}
		out = append(out, s)
	}
	return out
}

// writeBody writes the stored message with CRLF line ends.
func (p *prepared) writeBody(w io.Writer) error {
	f, err := p.blobs.Open(p.key)
	if err != nil {
		return err
	}
	defer f.Close()
	cw := &message.CRLFWriter{W: w}
	if _, err := io.Copy(cw, f); err != nil {
		return fmt.Errorf("send message %s: %w", p.key, err)
	}
	return cw.Close()
}

// writeTo writes the signatures and the message to the DATA stream
// (go-smtp's writer dot-stuffs it).
func (p *prepared) writeTo(w io.Writer) error {
	if _, err := w.Write(p.sig); err != nil {
		return err
	}
	return p.writeBody(w)
}
