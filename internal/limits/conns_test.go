package limits

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestConnections(t *testing.T) {
	v6 := netip.MustParseAddr("2001:db8:1:2::1")
	v6site := netip.MustParseAddr("2001:db8:1:2::ffff") // same /64
	v6other := netip.MustParseAddr("2001:db8:1:3::1")
	for _, tc := range []struct {
		name      string
		caps      [2]int // PerAddress, PerMinute
		opens     []netip.Addr
		at        []time.Duration // since t0, per open
		release   int             // releases the first n before the last open
		wantKind  ConnKind        // of the last open; 0: accepted
		wantRetry time.Duration
	}{
		{"under both caps", [2]int{2, 5}, []netip.Addr{v6, v6}, nil, 0, 0, 0},
		{"open cap", [2]int{2, 5}, []netip.Addr{v6, v6, v6}, nil, 0, ConnOpen, 0},
		{"open cap per /64", [2]int{2, 0}, []netip.Addr{v6, v6site, v6}, nil, 0, ConnOpen, 0},
		{"other /64", [2]int{2, 0}, []netip.Addr{v6, v6, v6other}, nil, 0, 0, 0},
		{"closed ones free the cap", [2]int{2, 0}, []netip.Addr{v6, v6, v6}, nil, 1, 0, 0},
		{"rate", [2]int{0, 2}, []netip.Addr{v6, v6, v6}, []time.Duration{0, 10 * time.Second, 20 * time.Second}, 2, ConnRate, time.Minute},
		{"rate next minute", [2]int{0, 2}, []netip.Addr{v6, v6, v6}, []time.Duration{0, 10 * time.Second, 61 * time.Second}, 2, 0, 0},
		{"no caps", [2]int{}, []netip.Addr{v6, v6, v6}, nil, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Connections{PerAddress: tc.caps[0], PerMinute: tc.caps[1]}
			var releases []func()
			var err error
			for i, a := range tc.opens {
				now := t0
				if tc.at != nil {
					now = t0.Add(tc.at[i])
				}
				if i == len(tc.opens)-1 {
					for _, r := range releases[:tc.release] {
						r()
						r() // a second call does nothing
					}
				}
				var rel func()
				rel, err = c.Open(a, now)
				if err != nil && i < len(tc.opens)-1 {
					t.Fatalf("open %d: %v", i, err)
				}
				releases = append(releases, rel)
			}
			var r *ConnRefusal
			if tc.wantKind == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &r) || r.Kind != tc.wantKind || (tc.wantRetry != 0 && !r.RetryAt.Equal(t0.Add(tc.wantRetry))) {
				t.Fatalf("got %v (%+v), want kind %d retry %v", err, r, tc.wantKind, tc.wantRetry)
			}
		})
	}
}

// TestConnections_Bounded: a spray of addresses keeps at most MaxKeys, and
// never forgets one with connections open.
func TestConnections_Bounded(t *testing.T) {
	c := &Connections{PerAddress: 1, PerMinute: 100, MaxKeys: 50}
	held := netip.MustParseAddr("198.51.100.1")
	if _, err := c.Open(held, t0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		rel, err := c.Open(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), t0)
		if err != nil {
			t.Fatal(err)
		}
		rel()
	}
	if n := len(c.m); n > 50 {
		t.Fatalf("%d addresses remembered, bound 50", n)
	}
	if _, err := c.Open(held, t0); err == nil {
		t.Fatal("the spray evicted an address with a connection open")
	}
}
