package limits

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func guard() *LoginGuard {
	return &LoginGuard{PerAddress: 10, PerMailbox: 30, Window: 15 * time.Minute, Cooloff: 15 * time.Minute, InFlightPerAddress: 4}
}

// done is a context that has ended: Begin must then decide without waiting.
func done() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func addrN(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}) }

// fail runs one failed attempt and returns its Lockout (from Begin or Fail).
func fail(t *testing.T, g *LoginGuard, addr netip.Addr, name string, now time.Time) *Lockout {
	t.Helper()
	a, err := g.Begin(done(), addr, name, now)
	var lock *Lockout
	if errors.As(err, &lock) {
		return lock
	}
	if err != nil {
		t.Fatalf("begin %s %s: %v", addr, name, err)
	}
	return a.Fail(now)
}

func succeed(t *testing.T, g *LoginGuard, addr netip.Addr, name string, now time.Time) {
	t.Helper()
	a, err := g.Begin(done(), addr, name, now)
	if err != nil {
		t.Fatalf("begin %s %s: %v", addr, name, err)
	}
	a.Succeed(now)
}

// TestLoginGuard_SuccessKeepsFailures: one valid account must not let an
// attacker alternate 9 failures and 1 success for ever (issue 13 item 4).
func TestLoginGuard_SuccessKeepsFailures(t *testing.T) {
	g := guard()
	attacker := addrN(1)
	for round := 0; round < 3; round++ {
		for i := 0; i < 9; i++ {
			now := t0.Add(time.Duration(round*10+i) * time.Second)
			if lock := fail(t, g, attacker, fmt.Sprintf("victim%d@example.com", i), now); lock != nil {
				if round == 0 {
					t.Fatalf("round %d failure %d: blocked early: %v", round, i, lock)
				}
				if lock.Cause != CauseAddress {
					t.Fatalf("cause %v", lock.Cause)
				}
				return
			}
		}
		succeed(t, g, attacker, "mine@example.com", t0.Add(time.Duration(round*10+9)*time.Second))
	}
	t.Fatal("27 failures within the window never blocked the address: a success cleared them")
}

// TestLoginGuard_NamesAreNamesWhetherTheyExist: the guard counts and locks
// every name the same way; 30 failures for a name from four addresses
// lock it for a fifth, with the cause named.
func TestLoginGuard_NamesAreNamesWhetherTheyExist(t *testing.T) {
	for _, name := range []string{"bob@example.com", "nobody@example.com"} {
		t.Run(name, func(t *testing.T) {
			g := guard()
			for i := 0; i < 30; i++ {
				if lock := fail(t, g, addrN(i%4), name, t0); lock != nil && i < 29 {
					t.Fatalf("failure %d blocked: %v", i, lock)
				}
			}
			_, err := g.Begin(done(), addrN(99), name, t0.Add(time.Second))
			var lock *Lockout
			if !errors.As(err, &lock) || lock.Cause != CauseName || !lock.Until.Equal(t0.Add(15*time.Minute)) {
				t.Fatalf("fresh address for %s: %v", name, err)
			}
			if _, err := g.Begin(done(), addrN(99), "carol@example.com", t0.Add(time.Second)); err != nil {
				t.Fatalf("the name's lock spilled onto another name: %v", err)
			}
		})
	}
}

// TestLoginGuard_OwnerDuringLock: an address that logged in with a name
// before still gets in while the name is locked, but not while the
// address itself is.
func TestLoginGuard_OwnerDuringLock(t *testing.T) {
	g := guard()
	owner := netip.MustParseAddr("2001:db8:1:2::10")
	succeed(t, g, owner, "alice@example.com", t0)
	for i := 0; i < 30; i++ {
		fail(t, g, addrN(i%4), "alice@example.com", t0)
	}
	if b, _ := g.Blocked(addrN(50), "alice@example.com", t0); !b {
		t.Fatal("name not locked")
	}
	sameSite := netip.MustParseAddr("2001:db8:1:2::99") // same /64
	succeed(t, g, sameSite, "alice@example.com", t0.Add(time.Minute))
	for i := 0; i < 10; i++ {
		fail(t, g, owner, "typo@example.com", t0.Add(2*time.Minute))
	}
	_, err := g.Begin(done(), owner, "alice@example.com", t0.Add(3*time.Minute))
	var lock *Lockout
	if !errors.As(err, &lock) || lock.Cause != CauseAddress {
		t.Fatalf("a blocked address logged in because it is trusted: %v", err)
	}
}

// TestLoginGuard_CountsBeforeTheHash: attempts in progress count as
// failures, so a burst from one address cannot start more password checks
// than the threshold allows; the waiters learn the block when the burst
// fails.
func TestLoginGuard_CountsBeforeTheHash(t *testing.T) {
	g := guard()
	g.PerAddress, g.InFlightPerAddress = 3, 100
	attacker := addrN(1)
	var begun []*Attempt
	for i := 0; i < 3; i++ {
		a, err := g.Begin(done(), attacker, fmt.Sprintf("u%d@example.com", i), t0)
		if err != nil {
			t.Fatalf("attempt %d: %v", i, err)
		}
		begun = append(begun, a)
	}
	if _, err := g.Begin(done(), attacker, "u9@example.com", t0); !errors.Is(err, ErrBusy) {
		t.Fatalf("fourth attempt while three are in progress: %v, want ErrBusy", err)
	}
	waiter := make(chan error, 1)
	go func() {
		_, err := g.Begin(context.Background(), attacker, "u9@example.com", t0)
		waiter <- err
	}()
	for _, a := range begun {
		a.Fail(t0)
	}
	var lock *Lockout
	if err := <-waiter; !errors.As(err, &lock) || lock.Cause != CauseAddress {
		t.Fatalf("waiter after the burst failed: %v", err)
	}
}

// TestLoginGuard_InFlightPerAddress: past InFlightPerAddress a login waits
// for one in progress to end; a cancelled attempt counts as nothing.
func TestLoginGuard_InFlightPerAddress(t *testing.T) {
	g := guard()
	g.InFlightPerAddress = 2
	a1, _ := g.Begin(done(), addrN(1), "a@example.com", t0)
	a2, _ := g.Begin(done(), addrN(1), "a@example.com", t0)
	if _, err := g.Begin(done(), addrN(1), "a@example.com", t0); !errors.Is(err, ErrBusy) {
		t.Fatalf("third login in progress: %v", err)
	}
	if _, err := g.Begin(done(), addrN(2), "a@example.com", t0); err != nil {
		t.Fatalf("another address waited: %v", err)
	}
	got := make(chan error, 1)
	go func() {
		a, err := g.Begin(context.Background(), addrN(1), "a@example.com", t0)
		if err == nil {
			a.Succeed(t0)
		}
		got <- err
	}()
	a1.Cancel()
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	a2.Succeed(t0)
	a1.Fail(t0) // ended already: no effect
	for i := 0; i < 9; i++ {
		if lock := fail(t, g, addrN(1), "a@example.com", t0); lock != nil {
			t.Fatalf("failure %d blocked: a cancelled or ended attempt was counted", i)
		}
	}
}

// TestLoginGuard_Bounded: a spray of distinct names and addresses keeps at
// most MaxKeys of each, and keeps the blocks.
func TestLoginGuard_Bounded(t *testing.T) {
	g := guard()
	g.MaxKeys = 100
	g.PerMailbox = 2
	fail(t, g, addrN(1), "locked@example.com", t0)
	fail(t, g, addrN(2), "locked@example.com", t0)
	for i := 0; i < 5000; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		fail(t, g, a, fmt.Sprintf("spray%d@example.com", i), t0)
	}
	g.mu.Lock()
	names, addrs := len(g.names), len(g.addrs)
	g.mu.Unlock()
	if names > 100 || addrs > 100 {
		t.Fatalf("%d names, %d addresses remembered, bound 100", names, addrs)
	}
	if b, _ := g.Blocked(addrN(3), "locked@example.com", t0); !b {
		t.Fatal("the spray evicted a block")
	}
}
