package limits

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mailroom/internal/store"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func lim(conc, perMin, perMsg, perDay int) store.Limits {
	return store.Limits{Concurrent: conc, MessagesPerMinute: perMin, RecipientsPerMessage: perMsg, RecipientsPerDay: perDay}
}

func TestEffective(t *testing.T) {
	server := lim(3, 30, 500, 10000)
	for _, tc := range []struct {
		name            string
		domain, mailbox store.Limits
		want            store.Limits
	}{
		{"server defaults", store.Limits{}, store.Limits{}, server},
		{"domain overrides", lim(5, 0, 0, 100), store.Limits{}, lim(5, 30, 500, 100)},
		{"mailbox overrides domain", lim(5, 0, 0, 100), lim(1, 0, 10, 0), lim(1, 30, 10, 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Effective(server, tc.domain, tc.mailbox); got != tc.want {
				t.Fatalf("Effective = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestTracker_Concurrency(t *testing.T) {
	tr := New()
	l := lim(2, 100, 10, 1000)
	a, r1 := tr.Begin(1, l, t0)
	b, r2 := tr.Begin(1, l, t0)
	if r1 != nil || r2 != nil {
		t.Fatal("first two refused")
	}
	if _, r := tr.Begin(1, l, t0); r == nil || r.Kind != KindConcurrent || r.Limit != 2 {
		t.Fatalf("third = %+v, want concurrency refusal", r)
	}
	if _, r := tr.Begin(2, l, t0); r != nil {
		t.Fatal("another mailbox was refused")
	}
	a.Abort()
	a.Abort() // idempotent
	c, r := tr.Begin(1, l, t0)
	if r != nil {
		t.Fatalf("slot not released: %+v", r)
	}
	b.Commit(t0)
	c.Commit(t0)
	c.Abort() // after Commit: no-op
	if u := tr.Usage(1, t0); u.InFlight != 0 || u.MessagesLastMin != 2 {
		t.Fatalf("usage %+v", u)
	}
}

func TestTracker_RateSlidingMinute(t *testing.T) {
	tr := New()
	l := lim(10, 3, 10, 1000)
	for i := 0; i < 3; i++ {
		tx, r := tr.Begin(1, l, t0.Add(time.Duration(i)*10*time.Second))
		if r != nil {
			t.Fatalf("message %d refused", i)
		}
		tx.Commit(t0.Add(time.Duration(i) * 10 * time.Second))
	}
	now := t0.Add(30 * time.Second)
	_, r := tr.Begin(1, l, now)
	if r == nil || r.Kind != KindRate || !r.RetryAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("4th in the minute = %+v, want rate refusal retrying at %v", r, t0.Add(time.Minute))
	}
	// In-flight transactions hold reservations: a 3-per-minute mailbox
	// with 3 open transactions cannot start a 4th either.
	tr2 := New()
	for i := 0; i < 3; i++ {
		if _, r := tr2.Begin(1, l, t0); r != nil {
			t.Fatal("refused below the rate")
		}
	}
	if _, r := tr2.Begin(1, l, t0); r == nil || r.Kind != KindRate {
		t.Fatalf("reservations not counted: %+v", r)
	}
	// The window slides: at t0+60s+1ns the first event is out.
	if tx, r := tr.Begin(1, l, t0.Add(time.Minute+time.Nanosecond)); r != nil {
		t.Fatalf("after the window slid: %+v", r)
	} else {
		tx.Abort()
	}
}

func TestTracker_Recipients(t *testing.T) {
	tr := New()
	l := lim(10, 100, 2, 5)
	tx, _ := tr.Begin(1, l, t0)
	for i := range 2 {
		if tx.AddRecipient(t0) != nil {
			t.Fatalf("recipient %d of 2 refused", i+1)
		}
	}
	if r := tx.AddRecipient(t0); r == nil || r.Kind != KindPerMessage || r.Limit != 2 {
		t.Fatalf("third recipient = %+v", r)
	}
	tx.Commit(t0)
	tx2, _ := tr.Begin(1, l, t0.Add(time.Hour))
	tx2.AddRecipient(t0.Add(time.Hour))
	tx2.AddRecipient(t0.Add(time.Hour))
	tx3, _ := tr.Begin(1, l, t0.Add(2*time.Hour))
	// 2 accepted + 2 reserved + this one = 5: allowed; the next is not.
	if r := tx3.AddRecipient(t0.Add(2 * time.Hour)); r != nil {
		t.Fatalf("5th recipient of the day refused: %+v", r)
	}
	r := tx3.AddRecipient(t0.Add(2 * time.Hour))
	if r == nil || r.Kind != KindPerDay || !r.RetryAt.Equal(t0.Add(24*time.Hour)) {
		t.Fatalf("6th recipient = %+v, want per-day refusal returning at %v", r, t0.Add(24*time.Hour))
	}
	tx2.Abort() // its 2 reservations return
	if r := tx3.AddRecipient(t0.Add(2 * time.Hour)); r != nil {
		t.Fatalf("after abort: %+v", r)
	}
	tx3.Commit(t0.Add(2 * time.Hour))
	if u := tr.Usage(1, t0.Add(2*time.Hour)); u.RecipientsLast24 != 4 {
		t.Fatalf("usage %+v, want 4 recipients", u)
	}
	if u := tr.Usage(1, t0.Add(24*time.Hour+time.Second)); u.RecipientsLast24 != 2 {
		t.Fatalf("a day later: %+v, want 2", u)
	}
}

func TestTracker_LoadSurvivesRestart(t *testing.T) {
	tr := New()
	tr.Load([]store.SubmissionRecord{
		{MailboxID: 7, At: t0.Add(-2 * time.Hour), Recipients: 4},
		{MailboxID: 7, At: t0.Add(-23 * time.Hour), Recipients: 1},
		{MailboxID: 8, At: t0.Add(-time.Hour), Recipients: 9},
	})
	tx, _ := tr.Begin(7, lim(3, 30, 500, 5), t0)
	if r := tx.AddRecipient(t0); r == nil || r.Kind != KindPerDay || !r.RetryAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("loaded budget not enforced: %+v", r)
	}
	if u := tr.Usage(8, t0); u.RecipientsLast24 != 9 {
		t.Fatalf("mailbox 8: %+v", u)
	}
}

// TestTracker_ExactUnderConcurrency: 20 goroutines of one mailbox never
// hold more than 3 slots; every refusal is a concurrency refusal. Run with
// -race in CI.
func TestTracker_ExactUnderConcurrency(t *testing.T) {
	tr := New()
	l := lim(3, 1<<30, 500, 1<<30)
	var inside, maxInside, refused, accepted atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 20; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				tx, r := tr.Begin(1, l, t0)
				if r != nil {
					if r.Kind != KindConcurrent {
						t.Errorf("refusal %+v", r)
					}
					refused.Add(1)
					continue
				}
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				tx.AddRecipient(t0)
				inside.Add(-1)
				tx.Commit(t0)
				accepted.Add(1)
			}
		}()
	}
	wg.Wait()
	if maxInside.Load() > 3 {
		t.Fatalf("%d transactions in flight at once, limit 3", maxInside.Load())
	}
	u := tr.Usage(1, t0)
	if u.InFlight != 0 || int64(u.RecipientsLast24) != accepted.Load() || accepted.Load()+refused.Load() != 20*500 {
		t.Fatalf("usage %+v, accepted %d, refused %d", u, accepted.Load(), refused.Load())
	}
	t.Logf("accepted %d, refused %d, max in flight %d", accepted.Load(), refused.Load(), maxInside.Load())
}

func TestLoginGuard(t *testing.T) {
	g := &LoginGuard{PerAddress: 3, PerMailbox: 5, Window: 10 * time.Minute, Cooloff: 15 * time.Minute}
	attacker := netip.MustParseAddr("198.51.100.7")
	owner := netip.MustParseAddr("2001:db8:1:2::10")
	ownerOtherHost := netip.MustParseAddr("2001:db8:1:2::99") // same /64
	stranger := netip.MustParseAddr("203.0.113.5")
	g.Success(owner, "alice@example.com", t0)

	for i := range 2 {
		if g.Failure(attacker, "alice@example.com", t0) {
			t.Fatalf("blocked at failure %d, before the threshold", i+1)
		}
	}
	if !g.Failure(attacker, "alice@example.com", t0) {
		t.Fatal("third failure from one address did not block it")
	}
	if b, until := g.Blocked(attacker, "bob@example.com", t0.Add(time.Minute)); !b || !until.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("attacker not blocked for other mailboxes too: %v %v", b, until)
	}
	if b, _ := g.Blocked(attacker, "", t0.Add(16*time.Minute)); b {
		t.Fatal("block outlived the cool-off")
	}
	// A distributed attack on alice@ from many addresses blocks unknown
	// addresses for alice@, but not her own.
	for i := 0; i < 5; i++ {
		g.Failure(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), "alice@example.com", t0.Add(20*time.Minute))
	}
	now := t0.Add(21 * time.Minute)
	if b, _ := g.Blocked(stranger, "alice@example.com", now); !b {
		t.Error("mailbox block does not apply to an unknown address")
	}
	if b, _ := g.Blocked(ownerOtherHost, "alice@example.com", now); b {
		t.Error("the owner's network is locked out of her own mailbox")
	}
	if b, _ := g.Blocked(stranger, "bob@example.com", now); b {
		t.Error("alice's block spilled onto bob")
	}
	g.Forget(t0.Add(48 * time.Hour))
	if b, _ := g.Blocked(stranger, "alice@example.com", t0.Add(48*time.Hour)); b {
		t.Error("block survived Forget after it expired")
	}
}

// BenchmarkTracker_DifferentMailboxes shows that limit checks of different
// mailboxes do not serialize: compare ns/op with -cpu 1,2 against
// BenchmarkTracker_OneMailbox, where every goroutine contends.
func BenchmarkTracker_DifferentMailboxes(b *testing.B) {
	tr := New()
	l := lim(1<<30, 1<<30, 500, 1<<30)
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		id := next.Add(1) * 1000
		i := int64(0)
		for pb.Next() {
			tx, _ := tr.Begin(id+i%1000, l, t0)
			tx.AddRecipient(t0)
			tx.Abort()
			i++
		}
	})
}

func BenchmarkTracker_OneMailbox(b *testing.B) {
	tr := New()
	l := lim(1<<30, 1<<30, 500, 1<<30)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tx, _ := tr.Begin(1, l, t0)
			tx.AddRecipient(t0)
			tx.Abort()
		}
	})
}
