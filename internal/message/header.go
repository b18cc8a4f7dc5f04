// Package message owns the formats of a message: what mailroom reads from
// and writes into its header at acceptance (From/Sender, Message-ID, Date,
// Received, the Bcc-less copy), the DKIM signature and CRLF normalization
// on the way out, and the delivery status notifications it builds.
package message

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"

	"mailroom/internal/address"
)

// ErrMalformed is wrapped by errors about a header mailroom cannot parse.
var ErrMalformed = errors.New("malformed message header")

// ReadHeader reads the header section from r, leaving r at the body.
func ReadHeader(r *bufio.Reader) (textproto.Header, error) {
	h, err := textproto.ReadHeader(r)
	if err != nil {
		// Wrapped with %w too: a read error (the size limit) stays visible.
		return h, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return h, nil
}

// Address is one address of a From: or Sender: field.
type Address struct {
	Name string // display name, decoded from RFC 2047 encoded words
	Addr string // as written
	Norm string // canonical form (package address)
}

// AddressList parses header field key ("From", "Sender"). An absent field
// gives none; a field that appears more than once is malformed (RFC 5322
// §3.6 allows one From: and one Sender:).
func AddressList(h textproto.Header, key string) ([]Address, error) {
	vals := h.Values(key)
	if len(vals) > 1 {
		return nil, fmt.Errorf("%w: %d %s: fields, RFC 5322 §3.6 allows one", ErrMalformed, len(vals), key)
	}
	if len(vals) == 0 {
		return nil, nil
	}
	list, err := mail.ParseAddressList(vals[0])
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %q: %v", ErrMalformed, key, vals[0], err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: %s: names no address", ErrMalformed, key)
	}
	out := make([]Address, 0, len(list))
	for _, a := range list {
		n, err := address.Normalize(a.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, key, err)
		}
		out = append(out, Address{Name: a.Name, Addr: a.Address, Norm: n})
	}
	return out, nil
}

// Addresses is AddressList reduced to the canonical addresses.
func Addresses(h textproto.Header, key string) ([]string, error) {
	list, err := AddressList(h, key)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Norm
	}
	return out, nil
}

// SetAddressList replaces header field key with list, display names
// encoded as RFC 2047 words where they need it.
func SetAddressList(h *textproto.Header, key string, list []Address) {
	parts := make([]string, len(list))
	for i, a := range list {
		parts[i] = (&mail.Address{Name: a.Name, Address: a.Addr}).String()
	}
	h.Set(key, strings.Join(parts, ", "))
}

// Stamp is what acceptance records in the header of a message.
type Stamp struct {
	Hostname string    // our host name
	Helo     string    // the client's EHLO argument
	RemoteIP string    // the client's address
	TLS      string    // e.g. "TLS1.3 TLS_AES_128_GCM_SHA256"; "" without TLS
	QueueID  string    // the id the 250 reply names
	Now      time.Time // acceptance time
}

// Complete adds what a submitted message lacks and records its passage:
// From: (the envelope sender) when missing, Message-ID and Date when missing
// (RFC 6409 §8), and a Received: field on top (RFC 5321 §4.4). It returns the
// Message-ID, without angle brackets.
func Complete(h *textproto.Header, st Stamp, envelopeFrom string) (string, error) {
	if !h.Has("From") && envelopeFrom != "" {
		h.Add("From", "<"+envelopeFrom+">")
	}
	if !h.Has("Date") {
		h.Add("Date", st.Now.Format(time.RFC1123Z))
	}
	msgID := MessageID(*h)
	if msgID == "" {
		var rnd [6]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return "", fmt.Errorf("message id: %w", err)
		}
		msgID = st.QueueID + "." + hex.EncodeToString(rnd[:]) + "@" + st.Hostname
		h.Add("Message-Id", "<"+msgID+">")
	}
	with := "ESMTPA"
	tls := ""
	if st.TLS != "" {
		with = "ESMTPSA"
		tls = " (" + st.TLS + ")"
	}
	h.Add("Received", fmt.Sprintf("from %s ([%s]) by %s (mailroom) with %s id %s%s; %s",
		st.Helo, st.RemoteIP, st.Hostname, with, st.QueueID, tls, st.Now.Format(time.RFC1123Z)))
	return msgID, nil
}

// MessageID is the header's Message-ID without angle brackets, as
// mailroom stores it (store.Message.MessageID); "" when there is none.
func MessageID(h textproto.Header) string {
	return strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
}

// DroppedFields are the header fields removed from every copy recipients
// receive, as Postfix's message_drop_headers removes them: Bcc: and
// Resent-Bcc: would disclose blind recipients (RFC 5322 §3.6.3), a
// Return-Path: is the final delivery's to add (RFC 5321 §4.4), and a
// Content-Length: from the client can truncate the message in a mailbox
// store that trusts it. The Sent Items copy keeps them as submitted.
var DroppedFields = []string{"Bcc", "Resent-Bcc", "Return-Path", "Content-Length"}

// HasDropped reports whether the header carries a field of DroppedFields,
// that is whether recipients need a copy of their own.
func HasDropped(h textproto.Header) bool {
	for _, k := range DroppedFields {
		if h.Has(k) {
			return true
		}
	}
	return false
}

// WithoutDropped returns a copy of h without the fields of DroppedFields,
// for the copies recipients receive.
func WithoutDropped(h textproto.Header) textproto.Header {
	c := h.Copy()
	for _, k := range DroppedFields {
		c.Del(k)
	}
	return c
}

// WriteHeader writes h followed by the blank line that ends it.
func WriteHeader(w io.Writer, h textproto.Header) error {
	if err := textproto.WriteHeader(w, h); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	return nil
}
