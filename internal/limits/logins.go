package limits

import (
	"net/netip"
	"sync"
	"time"
)

// LoginGuard counts failed logins per client address and per mailbox and
// blocks past a threshold for a cool-off. A mailbox's block only applies
// to addresses that have not logged in to it successfully, so an attacker
// hammering alice@ from many addresses does not lock Alice out of her own
// devices.
type LoginGuard struct {
	PerAddress int           // failures from one address (IPv6: /64) that block it
	PerMailbox int           // failures for one mailbox that block unknown addresses for it
	Window     time.Duration // failures older than this are forgotten
	Cooloff    time.Duration // how long a block lasts

	mu      sync.Mutex
	addrs   map[netip.Prefix]*failures
	boxes   map[string]*failures
	trusted map[trustKey]time.Time // successful logins: mailbox + address prefix
}

type failures struct {
	times   []time.Time
	blocked time.Time // until
}

type trustKey struct {
	mailbox string
	prefix  netip.Prefix
}

// trustFor is how long a successful login keeps an address trusted.
const trustFor = 30 * day

// prefixOf groups IPv6 clients by /64, the usual size of one site.
func prefixOf(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

func (g *LoginGuard) init() {
	if g.addrs == nil {
		g.addrs = make(map[netip.Prefix]*failures)
		g.boxes = make(map[string]*failures)
		g.trusted = make(map[trustKey]time.Time)
	}
}

// Blocked reports whether a login from addr for mailbox ("" when the user
// name names no mailbox) must be refused at now, and until when.
func (g *LoginGuard) Blocked(addr netip.Addr, mailbox string, now time.Time) (bool, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	p := prefixOf(addr)
	if f := g.addrs[p]; f != nil && now.Before(f.blocked) {
		return true, f.blocked
	}
	if mailbox == "" {
		return false, time.Time{}
	}
	if f := g.boxes[mailbox]; f != nil && now.Before(f.blocked) {
		if until, ok := g.trusted[trustKey{mailbox, p}]; ok && now.Before(until) {
			return false, time.Time{}
		}
		return true, f.blocked
	}
	return false, time.Time{}
}

// Failure records a failed login and reports whether it made addr or the
// mailbox blocked.
func (g *LoginGuard) Failure(addr netip.Addr, mailbox string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	blocked := count(g, g.addrs, prefixOf(addr), g.PerAddress, now)
	if mailbox != "" && count(g, g.boxes, mailbox, g.PerMailbox, now) {
		if until, ok := g.trusted[trustKey{mailbox, prefixOf(addr)}]; !ok || !now.Before(until) {
			blocked = true
		}
	}
	return blocked
}

// count adds a failure for key in m and blocks it when it reaches limit.
func count[K comparable](g *LoginGuard, m map[K]*failures, key K, limit int, now time.Time) bool {
	f := m[key]
	if f == nil {
		f = &failures{}
		m[key] = f
	}
	cut := now.Add(-g.Window)
	i := 0
	for i < len(f.times) && f.times[i].Before(cut) {
		i++
	}
	f.times = append(f.times[i:], now)
	if len(f.times) >= limit {
		f.blocked = now.Add(g.Cooloff)
		f.times = f.times[:0]
		return true
	}
	return now.Before(f.blocked)
}

// Success records a successful login: the address becomes trusted for the
// mailbox, and its own failures are forgotten.
func (g *LoginGuard) Success(addr netip.Addr, mailbox string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	p := prefixOf(addr)
	g.trusted[trustKey{mailbox, p}] = now.Add(trustFor)
	if f := g.addrs[p]; f != nil && !now.Before(f.blocked) {
		delete(g.addrs, p)
	}
}

// Forget drops state that no longer matters (expired failures, blocks and
// trust); call it now and then to bound memory.
func (g *LoginGuard) Forget(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	cut := now.Add(-g.Window)
	for k, f := range g.addrs {
		if !now.Before(f.blocked) && (len(f.times) == 0 || f.times[len(f.times)-1].Before(cut)) {
			delete(g.addrs, k)
		}
	}
	for k, f := range g.boxes {
		if !now.Before(f.blocked) && (len(f.times) == 0 || f.times[len(f.times)-1].Before(cut)) {
			delete(g.boxes, k)
		}
	}
	for k, until := range g.trusted {
		if !now.Before(until) {
			delete(g.trusted, k)
		}
	}
}

// Len is how many addresses, mailboxes and trusted pairs g remembers:
// what Forget bounds.
func (g *LoginGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.addrs) + len(g.boxes) + len(g.trusted)
}
