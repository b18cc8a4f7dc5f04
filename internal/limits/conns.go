package limits

import (
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// Connections caps the connections of each client address (IPv6: its
// /64): how many are open at once and how many new ones start per minute,
// as Postfix's smtpd_client_connection_count_limit and
// smtpd_client_connection_rate_limit do (counted, as anvil counts them,
// in fixed one-minute windows). Refused connections do not count.
type Connections struct {
	PerAddress int // connections open at once; 0: no cap
	PerMinute  int // new connections per minute; 0: no cap
	// MaxKeys bounds the addresses remembered. Default 50000.
	MaxKeys int

	mu sync.Mutex
	m  map[netip.Prefix]*connCount
}

type connCount struct {
	open   int
	start  time.Time // of the current minute
	opened int       // connections started in it
}

// ConnKind names which cap refused a connection.
type ConnKind int

// The caps of Connections.
const (
	ConnOpen ConnKind = iota + 1 // PerAddress
	ConnRate                     // PerMinute
)

// ConnRefusal says which cap refused a connection, at what value, and
// (for the rate) when a new connection can be accepted.
type ConnRefusal struct {
	Kind    ConnKind
	Limit   int
	RetryAt time.Time
}

func (r *ConnRefusal) Error() string {
	return fmt.Sprintf("connection limit %d reached (kind %d)", r.Limit, r.Kind)
}

// Open counts a new connection from addr at now and returns the function
// that ends it (call it once, when the connection closes), or a
// *ConnRefusal.
func (c *Connections) Open(addr netip.Addr, now time.Time) (release func(), err error) {
	if c.PerAddress <= 0 && c.PerMinute <= 0 {
		return func() {}, nil
	}
	p := prefixOf(addr)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[netip.Prefix]*connCount)
	}
	n := c.m[p]
	if n == nil {
		c.makeRoom(now)
		n = &connCount{start: now}
		c.m[p] = n
	}
	if now.Sub(n.start) >= minute {
		n.start, n.opened = now, 0
	}
	if c.PerAddress > 0 && n.open >= c.PerAddress {
		return nil, &ConnRefusal{Kind: ConnOpen, Limit: c.PerAddress}
	}
	if c.PerMinute > 0 && n.opened >= c.PerMinute {
		return nil, &ConnRefusal{Kind: ConnRate, Limit: c.PerMinute, RetryAt: n.start.Add(minute)}
	}
	n.open++
	n.opened++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			n.open--
			c.mu.Unlock()
		})
	}, nil
}

// makeRoom keeps the map within MaxKeys: it drops the addresses with no
// connection open whose minute has passed, then, when still full, any
// address with no connection open (its rate count is lost). Addresses
// with open connections are never dropped. The caller holds c.mu.
func (c *Connections) makeRoom(now time.Time) {
	max := c.MaxKeys
	if max <= 0 {
		max = 50000
	}
	if len(c.m) < max {
		return
	}
	for k, n := range c.m {
		if n.open == 0 && now.Sub(n.start) >= minute {
			delete(c.m, k)
		}
	}
	for k, n := range c.m {
		if len(c.m) < max {
			return
		}
		if n.open == 0 {
			delete(c.m, k)
		}
	}
}
