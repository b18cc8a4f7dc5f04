package storetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"mailroom/internal/store"
)

var bodyTests = []test{
	{"PutAndReadParts", testBodyParts},
	{"EmptyBody", testBodyEmpty},
	{"DuplicateConflict", testBodyDuplicate},
	{"InAcceptance", testBodyInAcceptance},
	{"AcceptanceAllOrNothing", testBodyAcceptanceAtomic},
	{"DeleteAndKeys", testBodyDeleteAndKeys},
	{"DeleteOrphans", testBodyDeleteOrphans},
	{"Heads", testBodyHeads},
}

// bodyOf reads every part of the body named key back.
func bodyOf(tb testing.TB, s store.Store, key string) []byte {
	tb.Helper()
	var out []byte
	for n := 0; ; n++ {
		p, err := s.BodyPart(tb.Context(), key, n)
		if n > 0 && errors.Is(err, store.ErrNotFound) {
			return out
		}
		noErr(tb, err, "read body part")
		out = append(out, p...)
	}
}

func testBodyParts(t *testing.T, s store.Store) {
	// Two whole parts and a short third: parts are exactly BodyPartSize.
	want := bytes.Repeat([]byte("0123456789abcdef"), (2*store.BodyPartSize+1000)/16)
	noErr(t, s.PutBody(t.Context(), "B1", bytes.NewReader(want)), "put body")
	for n, size := range []int{store.BodyPartSize, store.BodyPartSize, len(want) - 2*store.BodyPartSize} {
		p, err := s.BodyPart(t.Context(), "B1", n)
		noErr(t, err, "read part")
		if len(p) != size {
			t.Errorf("part %d: %d bytes, want %d", n, len(p), size)
		}
	}
	_, err := s.BodyPart(t.Context(), "B1", 3)
	wantErr(t, err, store.ErrNotFound, "part past the end")
	if got := bodyOf(t, s, "B1"); !bytes.Equal(got, want) {
		t.Fatalf("body read back differs: %d bytes, want %d", len(got), len(want))
	}
	_, err = s.BodyPart(t.Context(), "NOPE", 0)
	wantErr(t, err, store.ErrNotFound, "missing body")
}

func testBodyEmpty(t *testing.T, s store.Store) {
	noErr(t, s.PutBody(t.Context(), "E", bytes.NewReader(nil)), "put empty body")
	p, err := s.BodyPart(t.Context(), "E", 0)
	noErr(t, err, "read empty body")
	if len(p) != 0 {
		t.Fatalf("empty body read back as %d bytes", len(p))
	}
}

func testBodyDuplicate(t *testing.T, s store.Store) {
	noErr(t, s.PutBody(t.Context(), "D", strings.NewReader("one")), "put body")
	err := s.PutBody(t.Context(), "D", strings.NewReader("two"))
	wantErr(t, err, store.ErrConflict, "put body twice")
	if got := string(bodyOf(t, s, "D")); got != "one" {
		t.Fatalf("body after conflict: %q", got)
	}
}

func testBodyInAcceptance(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	a := acceptance("Q1", alice, base, "rcpt@remote.example")
	a.Bodies = []store.Body{{Key: "Q1.eml", Data: []byte("full")}, {Key: "Q1.dlv.eml", Data: []byte("dlv")}}
	mustAccept(t, s, a)
	if got := string(bodyOf(t, s, "Q1.eml")); got != "full" {
		t.Errorf("Q1.eml: %q", got)
	}
	if got := string(bodyOf(t, s, "Q1.dlv.eml")); got != "dlv" {
		t.Errorf("Q1.dlv.eml: %q", got)
	}
}

func testBodyAcceptanceAtomic(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	mustAccept(t, s, acceptance("Q1", alice, base, "rcpt@remote.example"))
	// A duplicate message id fails the acceptance: its body is not kept.
	a := acceptance("Q1", alice, base, "rcpt@remote.example")
	a.Bodies = []store.Body{{Key: "Q1-again.eml", Data: []byte("x")}}
	if err := s.Accept(t.Context(), a); err == nil {
		t.Fatal("duplicate acceptance succeeded")
	}
	_, err := s.BodyPart(t.Context(), "Q1-again.eml", 0)
	wantErr(t, err, store.ErrNotFound, "body of a failed acceptance")
}

func testBodyDeleteAndKeys(t *testing.T, s store.Store) {
	before := time.Now().Add(-time.Minute)
	for _, k := range []string{"a1", "b2", "c3"} {
		noErr(t, s.PutBody(t.Context(), k, strings.NewReader(k)), "put body")
	}
	noErr(t, s.DeleteBodies(t.Context(), []string{"c3", "zz"}), "delete bodies")
	noErr(t, s.DeleteBodies(t.Context(), []string{"c3"}), "delete missing body")
	noErr(t, s.DeleteBodies(t.Context(), nil), "delete no bodies")
	var keys []string
	err := s.BodyKeys(t.Context(), "b", func(key string, stored time.Time) error {
		if stored.Before(before) {
			t.Errorf("%s stored at %v", key, stored)
		}
		keys = append(keys, key)
		return nil
	})
	noErr(t, err, "list bodies")
	if strings.Join(keys, ",") != "b2" {
		t.Fatalf("keys from b: %v, want [b2]", keys)
	}
}

func testBodyDeleteOrphans(t *testing.T, s store.Store) {
	alice, _ := setup(t, s)
	a := acceptance("Q1", alice, base, "rcpt@remote.example")
	a.Message.Blob, a.Message.DeliveryBlob = "Q1.eml", "Q1.dlv.eml"
	a.Bodies = []store.Body{{Key: "Q1.eml", Data: []byte("full")}, {Key: "Q1.dlv.eml", Data: []byte("dlv")}}
	mustAccept(t, s, a)
	noErr(t, s.PutBody(t.Context(), "Q2.eml", strings.NewReader("never accepted")), "put orphan")
	n, err := s.DeleteOrphanBodies(t.Context(), time.Now().Add(-time.Hour))
	noErr(t, err, "delete orphans before an hour ago")
	if n != 0 {
		t.Fatalf("removed %d bodies stored just now", n)
	}
	n, err = s.DeleteOrphanBodies(t.Context(), time.Now().Add(time.Minute))
	noErr(t, err, "delete orphans")
	if n != 1 {
		t.Fatalf("removed %d orphans, want 1", n)
	}
	if got := string(bodyOf(t, s, "Q1.eml")); got != "full" {
		t.Errorf("Q1.eml after the sweep: %q", got)
	}
	if got := string(bodyOf(t, s, "Q1.dlv.eml")); got != "dlv" {
		t.Errorf("Q1.dlv.eml after the sweep: %q", got)
	}
	_, err = s.BodyPart(t.Context(), "Q2.eml", 0)
	wantErr(t, err, store.ErrNotFound, "the orphan after the sweep")
}

func testBodyHeads(t *testing.T, s store.Store) {
	long := bytes.Repeat([]byte("h"), store.BodyPartSize+10) // two parts: only part 0 counts
	noErr(t, s.PutBody(t.Context(), "H1", bytes.NewReader(long)), "put long body")
	noErr(t, s.PutBody(t.Context(), "H2", strings.NewReader("Subject: x\r\n\r\nshort")), "put short body")
	noErr(t, s.PutBody(t.Context(), "H3", bytes.NewReader(nil)), "put empty body")
	heads, err := s.BodyHeads(t.Context(), []string{"H1", "H2", "H3", "NOPE"}, 16)
	noErr(t, err, "read body heads")
	want := map[string]string{"H1": strings.Repeat("h", 16), "H2": "Subject: x\r\n\r\nsh", "H3": ""}
	if len(heads) != len(want) {
		t.Errorf("heads of %d bodies, want %d: %q", len(heads), len(want), heads)
	}
	for k, w := range want {
		if h, ok := heads[k]; !ok || string(h) != w {
			t.Errorf("head of %s: %q (present %v), want %q", k, h, ok, w)
		}
	}
	whole, err := s.BodyHeads(t.Context(), []string{"H2"}, store.BodyPartSize)
	noErr(t, err, "read a whole short body")
	if got := string(whole["H2"]); got != "Subject: x\r\n\r\nshort" {
		t.Errorf("whole head of H2: %q", got)
	}
	none, err := s.BodyHeads(t.Context(), nil, 16)
	noErr(t, err, "read no heads")
	if len(none) != 0 {
		t.Errorf("heads of no keys: %q", none)
	}
	_, err = s.BodyHeads(t.Context(), make([]string, store.MaxBodyHeads+1), 16)
	if err == nil {
		t.Error("heads of more than MaxBodyHeads keys read")
	}
}
