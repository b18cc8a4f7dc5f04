package message

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

func TestDKIMSign_VerifiesWithPublishedRecords(t *testing.T) {
	records := map[string]string{}
	var signers []DKIMSigner
	for _, alg := range []string{DKIMEd25519, DKIMRSA} {
		der, err := NewDKIMKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		sel := "s-" + alg
		s, err := ParseDKIMKey("example.test", sel, der)
		if err != nil {
			t.Fatal(err)
		}
		signers = append(signers, s)
		rec, err := DKIMRecord(der)
		if err != nil {
			t.Fatal(err)
		}
		if k, p := DKIMRecordKey(rec); k != alg || p == "" {
			t.Fatalf("record %q: k=%q p=%q", rec, k, p)
		}
		records[sel+"._domainkey.example.test"] = rec
	}
	msg := "From: Alice <alice@example.test>\r\nTo: bob@remote.test\r\nSubject: hi\r\n\r\nbody line\r\n"
	sig, err := DKIMSign(strings.NewReader(msg), signers)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(sig, []byte("DKIM-Signature:")); n != 2 {
		t.Fatalf("got %d signatures, want 2:\n%s", n, sig)
	}
	signed := string(sig) + msg
	vs, err := dkim.VerifyWithOptions(strings.NewReader(signed), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if r, ok := records[name]; ok {
				return []string{r}, nil
			}
			return nil, fmt.Errorf("no TXT at %s", name)
		},
	})
	if err != nil || len(vs) != 2 {
		t.Fatalf("verify: %v, %d verifications", err, len(vs))
	}
	for _, v := range vs {
		if v.Err != nil || v.Domain != "example.test" {
			t.Errorf("signature %+v: %v", v, v.Err)
		}
	}
	// A changed body no longer verifies.
	tampered := strings.Replace(signed, "body line", "body lime", 1)
	vs, _ = dkim.VerifyWithOptions(strings.NewReader(tampered), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) { return []string{records[name]}, nil },
	})
	for _, v := range vs {
		if v.Err == nil {
			t.Errorf("tampered message verified with %+v", v)
		}
	}
}

func TestCRLFWriter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{"a\nb\n", "a\r\nb\r\n"},
		{"a\rb\r", "a\r\nb\r\n"},
		{"a\r\r\nb", "a\r\n\r\nb"},
		{"\n\n", "\r\n\r\n"},
		{"", ""},
	} {
		// Every split point must give the same output.
		for cut := 0; cut <= len(tc.in); cut++ {
			var b bytes.Buffer
			w := &CRLFWriter{W: &b}
			w.Write([]byte(tc.in[:cut]))
			w.Write([]byte(tc.in[cut:]))
			w.Close()
			if b.String() != tc.want {
				t.Errorf("%q cut at %d: got %q, want %q", tc.in, cut, b.String(), tc.want)
			}
		}
	}
}
