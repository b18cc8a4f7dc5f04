package submission

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// maxHelo bounds the EHLO argument: a domain name is at most 255 octets
// (RFC 5321 §4.5.3.1.2), and so is every address literal.
const maxHelo = 255

// checkHelo decides whether arg, the argument of EHLO or HELO, is a domain
// or an address literal (RFC 5321 §4.1.1.1, §4.1.3) of at most 255 octets.
//
// Like Postfix's reject_invalid_helo_hostname, and unlike
// reject_non_fqdn_helo_hostname, a name without a dot passes: printers and
// Windows clients announce themselves as "NPI8C3F5A" or "DESKTOP-1AB2C3D",
// and refusing them would refuse the devices, not an attack. Underscores
// pass for the same reason; UTF-8 labels pass (RFC 6531). What is refused
// cannot be a host name at all: an overlong argument, empty or overlong
// labels, spaces, control characters and other punctuation.
func checkHelo(arg string) error {
	if len(arg) > maxHelo {
		return fmt.Errorf("%d octets, over the limit of %d", len(arg), maxHelo)
	}
	if strings.HasPrefix(arg, "[") {
		return checkAddressLiteral(arg)
	}
	name := strings.TrimSuffix(arg, ".")
	if name == "" {
		return errors.New("empty")
	}
	if !utf8.ValidString(name) {
		return errors.New("not valid UTF-8")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("a label is empty or over 63 octets")
		}
		for _, r := range label {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r >= 0x80:
			default:
				return fmt.Errorf("the character %q cannot be in a domain name", r)
			}
		}
	}
	return nil
}

// checkAddressLiteral accepts [192.0.2.1] and [IPv6:2001:db8::1].
func checkAddressLiteral(arg string) error {
	inner, ok := strings.CutSuffix(arg[1:], "]")
	if !ok {
		return errors.New("an address literal must end with ]")
	}
	if v6, ok := strings.CutPrefix(inner, "IPv6:"); ok {
		if a, err := netip.ParseAddr(v6); err == nil && a.Is6() {
			return nil
		}
		return errors.New("not an IPv6 address literal")
	}
	if a, err := netip.ParseAddr(inner); err == nil && a.Is4() {
		return nil
	}
	return errors.New("not an IPv4 address literal (IPv6 ones start with IPv6:)")
}
