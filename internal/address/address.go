// Package address owns the canonical form of mail addresses: how an address
// typed by a client, an administrator or a header compares with one in the
// directory. Domains are IDNA A-labels in lower case; local parts compare
// case-insensitively (RFC 5321 allows case-sensitive local parts, but every
// mailbox mailroom serves treats them alike, as Exchange does).
package address

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// ErrInvalid is wrapped by every parse error of this package.
var ErrInvalid = errors.New("invalid address")

// maxLocal and maxDomain are the RFC 5321 §4.5.3.1 size limits.
const (
	maxLocal  = 64
	maxDomain = 255
	maxLabel  = 63 // RFC 1035 §2.3.4
)

// Normalize returns the canonical form of addr ("local@domain"): the local
// part lower-cased, the domain converted to lower-case A-labels. It refuses
// anything that is not a plain addr-spec: no angle brackets, display names,
// source routes or empty parts.
func Normalize(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", fmt.Errorf("%w %s: want local@domain", ErrInvalid, quote(addr))
	}
	local, domain := addr[:at], addr[at+1:]
	d, err := Domain(domain)
	if err != nil {
		return "", fmt.Errorf("%w %s: %v", ErrInvalid, quote(addr), err)
	}
	if err := checkLocal(local); err != nil {
		return "", fmt.Errorf("%w %s: %v", ErrInvalid, quote(addr), err)
	}
	// RFC 6532 §3.1: UTF-8 local parts compare in NFC, so a name typed
	// with a combining accent matches the directory's precomposed one.
	// NFC again after lowering: a capital with a combining mark may have no
	// precomposed form while its lower case has one ("T\u0308" → "\u1e97").
	return norm.NFC.String(strings.ToLower(norm.NFC.String(local))) + "@" + d, nil
}

// Domain returns the canonical form of a domain name: lower-case A-labels,
// no trailing dot.
func Domain(domain string) (string, error) {
	domain = strings.TrimSuffix(domain, ".")
	if domain == "" {
		return "", fmt.Errorf("%w: empty domain", ErrInvalid)
	}
	if !utf8.ValidString(domain) {
		// idna maps invalid bytes to U+FFFD and encodes that: the result
		// would not normalize again.
		return "", fmt.Errorf("%w: domain is not valid UTF-8", ErrInvalid)
	}
	if strings.HasPrefix(domain, "[") {
		return "", fmt.Errorf("%w: address literals are not served", ErrInvalid)
	}
	a, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", fmt.Errorf("%w: domain %s: %v", ErrInvalid, quote(domain), err)
	}
	a = strings.ToLower(a)
	if len(a) > maxDomain || !strings.Contains(a, ".") && a != "localhost" {
		return "", fmt.Errorf("%w: domain %s is not a fully qualified name", ErrInvalid, quote(domain))
	}
	for _, label := range strings.Split(a, ".") {
		if label == "" || len(label) > maxLabel {
			return "", fmt.Errorf("%w: domain %s has an empty label or one over %d octets", ErrInvalid, quote(domain), maxLabel)
		}
	}
	return a, nil
}

// checkLocal accepts dot-atoms and quoted strings of printable text,
// including UTF-8 (RFC 6531).
func checkLocal(local string) error {
	if len(local) > maxLocal {
		return fmt.Errorf("local part longer than %d octets", maxLocal)
	}
	if !utf8.ValidString(local) {
		return errors.New("local part is not valid UTF-8")
	}
	quoted := strings.HasPrefix(local, `"`)
	for _, r := range local {
		if r == '@' && !quoted {
			// An unquoted "@" makes the address ambiguous (which one ends
			// the local part?), and go-smtp hands over quoted local parts
			// without their quotes.
			return errors.New(`local part contains "@"`)
		}
		if r < 0x21 || r == 0x7f {
			if r == ' ' && quoted {
				continue
			}
			return errors.New("local part contains a space or control character")
		}
	}
	return nil
}

// DomainOf returns the domain part of a normalized address.
func DomainOf(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}

// LocalOf returns the local part of a normalized address.
func LocalOf(addr string) string {
	return addr[:strings.LastIndexByte(addr, '@')]
}

// maxQuoted bounds how much of an input an error message repeats: errors
// reach replies, logs and the trace, and an input can be 64 KiB long.
const maxQuoted = 80

// quote is s quoted for an error message, cut after maxQuoted octets.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	i := maxQuoted
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return fmt.Sprintf("%q… (%d octets)", s[:i], len(s))
}

// Same reports whether two names typed by a client name one address:
// equal once normalized (ALICE@Example.test is alice@example.test), or
// byte for byte when either does not parse. SASL's authorization identity
// is compared with the user name so.
func Same(a, b string) bool {
	na, errA := Normalize(a)
	nb, errB := Normalize(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return na == nb
}
