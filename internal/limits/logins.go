package limits

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// LoginGuard counts failed logins per client address and per user name and
// blocks past a threshold for a cool-off, as Postfix's anvil and Dovecot's
// auth penalty do. Every user name is counted, whether or not a mailbox
// has it, so that neither the reply nor its timing tells which names
// exist. A name's block only applies to addresses that have not logged in
// with it successfully, so an attacker hammering alice@ from many
// addresses does not lock Alice out of her own devices.
//
// An attempt is counted before the password is checked (Begin): the
// attempts in progress count as failures until they end, so a burst of
// simultaneous AUTHs cannot all pass the check before the first failure is
// recorded. A success does not clear earlier failures: one valid account
// must not let an attacker reset the address's count.
//
// Counts use a fixed window per key (anvil's rate time unit): failures
// older than Window at the first failure of a window are forgotten. Every
// map is bounded by MaxKeys; keys are hashes of the name, so a key costs
// the same whatever the name's length.
type LoginGuard struct {
	PerAddress int           // failures from one address (IPv6: /64) that block it
	PerMailbox int           // failures for one user name that block it for addresses not trusted for it
	Window     time.Duration // failures are counted over this window
	Cooloff    time.Duration // how long a block lasts
	// InFlightPerAddress caps the logins of one address (IPv6: /64)
	// checked at once; more wait in Begin. Default 4.
	InFlightPerAddress int
	// MaxKeys bounds the addresses, the names and the trusted pairs each
	// that the guard remembers. Default 50000.
	MaxKeys int

	mu      sync.Mutex
	seed    maphash.Seed
	addrs   map[netip.Prefix]*failures
	names   map[uint64]*failures
	trusted map[trustKey]time.Time // successful logins: name + address prefix
	wake    chan struct{}          // closed and replaced when an attempt ends
}

type failures struct {
	start    time.Time // of the current window
	count    int       // failures in the window
	inflight int       // attempts begun and not ended
	blocked  time.Time // until
}

type trustKey struct {
	name   uint64
	prefix netip.Prefix
}

// trustFor is how long a successful login keeps an address trusted.
const trustFor = 30 * day

// Cause says what a Lockout is on.
type Cause int

// The causes of a Lockout.
const (
	CauseAddress Cause = iota + 1 // the client address (IPv6: its /64)
	CauseName                     // the user name
)

func (c Cause) String() string {
	if c == CauseName {
		return "user_name"
	}
	return "address"
}

// Lockout is Begin's or Fail's refusal: too many failed logins from the
// address or for the name, until Until.
type Lockout struct {
	Cause Cause
	Until time.Time
}

func (l *Lockout) Error() string {
	return fmt.Sprintf("too many failed logins (%s) until %s", l.Cause, l.Until.Format(time.RFC3339))
}

// ErrBusy is Begin's error when the attempt could not start before its
// context ended: the address had its InFlightPerAddress logins in
// progress, or the attempts in progress would reach a threshold.
var ErrBusy = errors.New("too many logins in progress")

// prefixOf groups IPv6 clients by /64, the usual size of one site.
func prefixOf(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	if a.Is4() {
		return netip.PrefixFrom(a, 32)
	}
	p, _ := a.Prefix(64)
	return p
}

// init makes the maps; the caller holds g.mu.
func (g *LoginGuard) init() {
	if g.addrs == nil {
		g.seed = maphash.MakeSeed()
		g.addrs = make(map[netip.Prefix]*failures)
		g.names = make(map[uint64]*failures)
		g.trusted = make(map[trustKey]time.Time)
		g.wake = make(chan struct{})
	}
}

func (g *LoginGuard) nameKey(name string) uint64 { return maphash.String(g.seed, name) }

func (g *LoginGuard) maxKeys() int {
	if g.MaxKeys > 0 {
		return g.MaxKeys
	}
	return 50000
}

func (g *LoginGuard) inflightCap() int {
	if g.InFlightPerAddress > 0 {
		return g.InFlightPerAddress
	}
	return 4
}

// Attempt is one login begun with Begin. End it with exactly one of Fail,
// Succeed or Cancel.
type Attempt struct {
	g        *LoginGuard
	prefix   netip.Prefix
	name     uint64
	named    bool // false for "": the address alone is counted
	inflight bool // counted as in progress (begun with Begin)
	ended    bool
}

// Begin starts a login for name (as the client typed it, or normalized)
// from addr; an empty name (one no account can have) counts against the
// address only. It returns a *Lockout when the address is blocked, or the
// name is blocked and addr has not logged in with it before. Otherwise it
// waits until the address has fewer than InFlightPerAddress logins in
// progress and the failures counted plus the attempts in progress stay
// under both thresholds, then counts this attempt as in progress. When ctx
// ends first it returns ErrBusy.
func (g *LoginGuard) Begin(ctx context.Context, addr netip.Addr, name string, now time.Time) (*Attempt, error) {
	g.mu.Lock()
	g.init()
	p, k := prefixOf(addr), g.nameKey(name)
	for {
		a, n := g.addrs[p], g.names[k]
		if name == "" {
			n = nil
		}
		trusted := g.isTrusted(k, p, now)
		if a != nil && now.Before(a.blocked) {
			g.mu.Unlock()
			return nil, &Lockout{Cause: CauseAddress, Until: a.blocked}
		}
		if !trusted && n != nil && now.Before(n.blocked) {
			g.mu.Unlock()
			return nil, &Lockout{Cause: CauseName, Until: n.blocked}
		}
		if a.room(g.PerAddress, g.Window, now) && a.inflightBelow(g.inflightCap()) &&
			(trusted || n.room(g.PerMailbox, g.Window, now)) {
			entry(g, g.addrs, p, now).inflight++
			if name != "" {
				entry(g, g.names, k, now).inflight++
			}
			g.mu.Unlock()
			return &Attempt{g: g, prefix: p, name: k, named: name != "", inflight: true}, nil
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("login from %s: %w", p, ErrBusy)
		case <-wake:
		}
		g.mu.Lock()
	}
}

// room reports whether one more attempt may start: the failures of the
// current window plus the attempts in progress stay under limit.
func (f *failures) room(limit int, window time.Duration, now time.Time) bool {
	if f == nil || limit <= 0 {
		return true
	}
	count := f.count
	if now.Sub(f.start) >= window {
		count = 0
	}
	return count+f.inflight < limit
}

func (f *failures) inflightBelow(limit int) bool { return f == nil || f.inflight < limit }

// isTrusted reports whether the name has logged in from the prefix within
// trustFor; the caller holds g.mu.
func (g *LoginGuard) isTrusted(name uint64, p netip.Prefix, now time.Time) bool {
	until, ok := g.trusted[trustKey{name, p}]
	return ok && now.Before(until)
}

// entry returns m's entry for key, making room for it within MaxKeys:
// first by dropping what expired, then by evicting an entry that blocks
// nothing and has nothing in progress. Only when every entry blocks or is
// in use does the map grow past the bound. The caller holds g.mu.
func entry[K comparable](g *LoginGuard, m map[K]*failures, key K, now time.Time) *failures {
	if f := m[key]; f != nil {
		return f
	}
	if len(m) >= g.maxKeys() {
		forget(m, g.Window, now)
	}
	if len(m) >= g.maxKeys() {
		for k, f := range m { // random order: no key is always the victim
			if f.inflight == 0 && !now.Before(f.blocked) {
				delete(m, k)
				break
			}
		}
	}
	f := &failures{start: now}
	m[key] = f
	return f
}

// Fail ends the attempt as a failed login and returns the *Lockout it
// caused (the address's first, then the name's), or nil.
func (a *Attempt) Fail(now time.Time) *Lockout {
	g := a.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if !a.end() {
		return nil
	}
	var lock *Lockout
	if g.count(entry(g, g.addrs, a.prefix, now), g.PerAddress, now) {
		lock = &Lockout{Cause: CauseAddress, Until: g.addrs[a.prefix].blocked}
	}
	if a.named && g.count(entry(g, g.names, a.name, now), g.PerMailbox, now) && lock == nil && !g.isTrusted(a.name, a.prefix, now) {
		lock = &Lockout{Cause: CauseName, Until: g.names[a.name].blocked}
	}
	return lock
}

// Succeed ends the attempt as a successful login: the address becomes
// trusted for the name. Earlier failures stay counted.
func (a *Attempt) Succeed(now time.Time) {
	g := a.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if !a.end() {
		return
	}
	if len(g.trusted) >= g.maxKeys() {
		g.forgetTrust(now)
	}
	g.trusted[trustKey{a.name, a.prefix}] = now.Add(trustFor)
}

// Cancel ends an attempt whose password was never checked (the server
// was too busy): it counts as nothing.
func (a *Attempt) Cancel() {
	g := a.g
	g.mu.Lock()
	defer g.mu.Unlock()
	a.end()
}

// end takes the attempt out of the in-progress counts and wakes the
// waiters of Begin; false when it had ended already. The caller holds g.mu.
func (a *Attempt) end() bool {
	if a.ended {
		return false
	}
	a.ended = true
	if !a.inflight {
		return true
	}
	g := a.g
	if f := g.addrs[a.prefix]; f != nil && f.inflight > 0 {
		f.inflight--
	}
	if f := g.names[a.name]; a.named && f != nil && f.inflight > 0 {
		f.inflight--
	}
	close(g.wake)
	g.wake = make(chan struct{})
	return true
}

// count adds a failure to f and blocks it when the window holds limit
// failures; it reports whether f is blocked. The caller holds g.mu.
func (g *LoginGuard) count(f *failures, limit int, now time.Time) bool {
	if now.Sub(f.start) >= g.Window {
		f.start, f.count = now, 0
	}
	f.count++
	if limit > 0 && f.count >= limit {
		f.blocked = now.Add(g.Cooloff)
		f.start, f.count = now, 0
	}
	return now.Before(f.blocked)
}

// Blocked reports whether a login from addr for name must be refused at
// now, and until when. It is Begin without counting or waiting, for
// callers that check one password at a time (the web console).
func (g *LoginGuard) Blocked(addr netip.Addr, name string, now time.Time) (bool, time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	p, k := prefixOf(addr), g.nameKey(name)
	if f := g.addrs[p]; f != nil && now.Before(f.blocked) {
		return true, f.blocked
	}
	if f := g.names[k]; name != "" && f != nil && now.Before(f.blocked) && !g.isTrusted(k, p, now) {
		return true, f.blocked
	}
	return false, time.Time{}
}

// Failure records a failed login of name from addr that was not begun
// with Begin, and reports whether it made addr or the name blocked for addr.
func (g *LoginGuard) Failure(addr netip.Addr, name string, now time.Time) bool {
	g.mu.Lock()
	g.init()
	a := &Attempt{g: g, prefix: prefixOf(addr), name: g.nameKey(name), named: name != ""}
	g.mu.Unlock()
	return a.Fail(now) != nil
}

// Success records a successful login of name from addr that was not
// begun with Begin.
func (g *LoginGuard) Success(addr netip.Addr, name string, now time.Time) {
	g.mu.Lock()
	g.init()
	a := &Attempt{g: g, prefix: prefixOf(addr), name: g.nameKey(name), named: name != ""}
	g.mu.Unlock()
	a.Succeed(now)
}

// Forget drops state that no longer matters (expired failures, blocks and
// trust); call it now and then to return memory.
func (g *LoginGuard) Forget(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	forget(g.addrs, g.Window, now)
	forget(g.names, g.Window, now)
	g.forgetTrust(now)
}

// forget drops the entries of m that block nothing, have nothing in
// progress and whose window has passed.
func forget[K comparable](m map[K]*failures, window time.Duration, now time.Time) {
	for k, f := range m {
		if f.inflight == 0 && !now.Before(f.blocked) && now.Sub(f.start) >= window {
			delete(m, k)
		}
	}
}

// forgetTrust drops expired trust, and when the map is still full, an
// arbitrary half of it (only an attacker with a valid password and many
// addresses fills it); the caller holds g.mu.
func (g *LoginGuard) forgetTrust(now time.Time) {
	for k, until := range g.trusted {
		if !now.Before(until) {
			delete(g.trusted, k)
		}
	}
	if len(g.trusted) < g.maxKeys() {
		return
	}
	for k := range g.trusted {
		if len(g.trusted) < g.maxKeys()/2 {
			break
		}
		delete(g.trusted, k)
	}
}

// Len is how many addresses, user names and trusted pairs g remembers:
// what Forget bounds.
func (g *LoginGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.addrs) + len(g.names) + len(g.trusted)
}
