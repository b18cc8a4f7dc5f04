package delivery_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"mailroom/internal/resolver"
	"mailroom/internal/testkit"
)

// TestDeliver_DKIMSignedAndVerifiable makes the domain's keys as
// `mailroom domain dkim` does, publishes the printed records on the test
// DNS server, and verifies what the remote received with go-msgauth's
// verifier asking that server.
func TestDeliver_DKIMSignedAndVerifiable(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{})
	s := testkit.Start(t, fixture, testkit.WithRemote(r))
	recs, created, err := s.Admin.AddDKIM(context.Background(), "example.test", "")
	if err != nil || !created || len(recs) != 2 {
		t.Fatalf("make dkim keys: %+v, %v, %v", recs, created, err)
	}
	for _, rec := range recs {
		r.DNS.AddTXT(rec.Name, rec.Value)
	}
	s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@remote.test"},
		"From: Alice <alice@example.test>\nTo: bob@remote.test\nSubject: signed\n\nbare LF body\nline two\n")
	testkit.Eventually(t, "the message arrives", func() bool { return len(mx.Accepted()) == 1 })
	data := mx.Accepted()[0].Data

	res, err := resolver.New(r.DNS.Addr)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) { return res.TXT(context.Background(), name) },
	})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(vs) != 2 {
		t.Fatalf("%d signatures, want 2 (Ed25519 and RSA):\n%s", len(vs), data)
	}
	for _, v := range vs {
		if v.Err != nil || v.Domain != "example.test" {
			t.Errorf("signature d=%s: %v", v.Domain, v.Err)
		}
	}

	// Running it again makes nothing and shows the same records.
	again, created, err := s.Admin.AddDKIM(context.Background(), "example.test", "")
	if err != nil || created || len(again) != 2 || again[0].Value != recs[0].Value || again[1].Value != recs[1].Value {
		t.Fatalf("second run: created %v, %v; records changed: %v", created, err, again)
	}
}
