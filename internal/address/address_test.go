package address

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		bad            bool
	}{
		{name: "plain", in: "alice@example.com", want: "alice@example.com"},
		{name: "case folded", in: "Alice@Example.COM", want: "alice@example.com"},
		{name: "trailing dot", in: "a@example.com.", want: "a@example.com"},
		{name: "idna", in: "bob@bücher.example", want: "bob@xn--bcher-kva.example"},
		{name: "utf8 local", in: "jörg@example.com", want: "jörg@example.com"},
		{name: "utf8 local, decomposed", in: "jo\u0308rg@example.com", want: "jörg@example.com"},
		{name: "utf8 local, upper case", in: "JÖRG@example.com", want: "jörg@example.com"},
		{name: "plus kept", in: "a+tag@example.com", want: "a+tag@example.com"},
		{name: "at in quoted local", in: `"a@b"@example.com`, want: `"a@b"@example.com`},
		{name: "empty", in: "", bad: true},
		{name: "no at", in: "alice", bad: true},
		{name: "no local", in: "@example.com", bad: true},
		{name: "no domain", in: "alice@", bad: true},
		{name: "space", in: "al ice@example.com", bad: true},
		{name: "nul", in: "al\x00ice@example.com", bad: true},
		{name: "literal", in: "a@[127.0.0.1]", bad: true},
		{name: "single label", in: "a@example", bad: true},
		{name: "at in unquoted local", in: "a@b@example.com", bad: true},
		{name: "double at", in: "a@@example.com", bad: true},
		{name: "empty label", in: "a@example..com", bad: true},
		{name: "leading dot in domain", in: "a@.example.com", bad: true},
		{name: "long label", in: "a@" + strings.Repeat("x", 64) + ".com", bad: true},
		{name: "bad utf8", in: "a\xff@example.com", bad: true},
		{name: "long local", in: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.com", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if tc.bad {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Normalize(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParts(t *testing.T) {
	if DomainOf("a@b.example") != "b.example" || LocalOf("a@b.example") != "a" {
		t.Fatal("DomainOf/LocalOf split wrong")
	}
}
