package submission

import (
	"strings"
	"testing"
)

func TestCheckHelo(t *testing.T) {
	for _, tc := range []struct {
		arg string
		ok  bool
	}{
		{"client.example.com", true},
		{"client.example.com.", true},
		{"NPI8C3F5A", true},
		{"DESKTOP-1AB2C3D", true},
		{"my_host.lan", true},
		{"bücher.example", true},
		{"[192.0.2.1]", true},
		{"[IPv6:2001:db8::1]", true},
		{"[IPv6:192.0.2.1]", false},
		{"[2001:db8::1]", false},
		{"[192.0.2.1", false},
		{"[999.0.2.1]", false},
		{"", false},
		{".", false},
		{"a..b", false},
		{"host name", false},
		{"host\x01", false},
		{"host;rm", false},
		{"\xff\xfe", false},
		{strings.Repeat("a", 64) + ".example", false},
		{strings.Repeat("abcdefg.", 31) + "example", true}, // 255 octets
		{strings.Repeat("abcdefg.", 31) + "example1", false},
	} {
		if err := checkHelo(tc.arg); (err == nil) != tc.ok {
			t.Errorf("checkHelo(%.40q) = %v, want ok=%v", tc.arg, err, tc.ok)
		}
	}
}
