package address

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalize: whatever the input, Normalize does not panic, and what it
// returns is canonical: normalizing it again changes nothing (two spellings
// of one address must never give two "canonical" forms, or a grant or an
// alias would miss), it is valid UTF-8 without spaces or controls, and its
// domain is the canonical domain. Seeds: testdata/fuzz/FuzzNormalize.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"alice@example.com", "Alice@Example.COM.", "bob@bücher.example", "jo\u0308rg@example.com",
		"JÖRG@example.com", "a+tag@example.com", `"a@b"@example.com`, `"al ice"@example.com`,
		"a@[127.0.0.1]", "İstanbul@example.com", "ǅ@example.com", "a@xn--bcher-kva.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := Normalize(in)
		if err != nil {
			return
		}
		again, err := Normalize(n)
		if err != nil {
			t.Fatalf("Normalize(%q) = %q, which does not normalize: %v", in, n, err)
		}
		if again != n {
			t.Fatalf("Normalize is not idempotent: %q → %q → %q", in, n, again)
		}
		if !utf8.ValidString(n) || strings.ContainsFunc(LocalOf(n), func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("Normalize(%q) = %q holds invalid UTF-8 or a control character", in, n)
		}
		if d, err := Domain(DomainOf(n)); err != nil || d != DomainOf(n) {
			t.Fatalf("domain of %q is not canonical: %q, %v", n, d, err)
		}
	})
}
