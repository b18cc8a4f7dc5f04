package directory

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"mailroom/internal/store"
)

// TestVerify_OneHashWhateverTheUser: an unknown user, a wrong password, a
// mailbox without a password and an app password's prefix each cost
// exactly one hash, so no outcome is cheaper than another.
func TestVerify_OneHashWhateverTheUser(t *testing.T) {
	d, st, _ := openDirectoryWith(t, 0, Params{})
	ctx := context.Background()
	if _, err := st.CreateMailbox(ctx, store.Mailbox{Address: "shared@example.com", Domain: "example.com", Shared: true}); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, user, password string }{
		{"unknown user", "nobody@example.com", "old-password"},
		{"unparsable user", "", "old-password"},
		{"wrong password", "a@example.com", "wrong"},
		{"no password (shared)", "shared@example.com", "anything"},
		{"app password prefix that matches none", "a@example.com", "ABCDEFGHsecretsecretsecret12"},
		{"right password", "a@example.com", "old-password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := d.Hashes()
			if _, _, err := d.Verify(ctx, tc.user, tc.password); err != nil {
				t.Fatal(err)
			}
			if n := d.Hashes() - before; n != 1 {
				t.Fatalf("%d hashes, want 1", n)
			}
		})
	}
	if d.dummyHash[:len("$argon2id$v=19$m=19456,t=2,p=1$")] != "$argon2id$v=19$m=19456,t=2,p=1$" {
		t.Fatalf("the dummy hash %q does not use DefaultParams", d.dummyHash)
	}
}

// TestVerify_HashSlots: with every slot taken, Verify waits until its
// context ends and returns ErrBusy without hashing; a free slot is taken
// even by a context that has ended.
func TestVerify_HashSlots(t *testing.T) {
	d, _, _ := openDirectory(t, 0)
	for range cap(d.slots) {
		d.slots <- struct{}{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	before := d.Hashes()
	if _, ok, err := d.Verify(ctx, "a@example.com", "old-password"); ok || !errors.Is(err, ErrBusy) {
		t.Fatalf("all slots taken: ok=%v err=%v, want ErrBusy", ok, err)
	}
	if d.Hashes() != before {
		t.Fatal("hashed without a slot")
	}
	<-d.slots
	ended, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, ok, err := d.Verify(ended, "a@example.com", "old-password"); !ok || err != nil {
		t.Fatalf("a free slot: ok=%v err=%v", ok, err)
	}
}

// TestNew_MaxHashes: the default is half the cores, at least one; the
// option sets it.
func TestNew_MaxHashes(t *testing.T) {
	d, st, _ := openDirectory(t, 0)
	if want := max(1, runtime.NumCPU()/2); cap(d.slots) != want {
		t.Fatalf("%d slots, want %d", cap(d.slots), want)
	}
	d2, err := New(context.Background(), st, Options{MaxHashes: 3, HashParams: testParams})
	if err != nil {
		t.Fatal(err)
	}
	if cap(d2.slots) != 3 {
		t.Fatalf("%d slots, want 3", cap(d2.slots))
	}
}
