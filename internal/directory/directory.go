// Package directory owns the server's read model of domains and mailboxes:
// an in-memory snapshot of the store, verified logins (argon2id), and the
// reload that makes a change written by another process (the CLI) visible
// within a second. Writes go through package admin, not here.
package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/policy"
	"mailroom/internal/store"
)

// Snapshot is one consistent view of the directory. It is never modified
// after it is published.
type Snapshot struct {
	Version   int64
	plusSep   string
	domains   map[string]*store.Domain
	mailboxes map[string]*store.Mailbox
	aliases   map[string]*store.Mailbox  // alias address → owner
	owned     map[string][]string        // mailbox → its aliases
	grants    map[string][]policy.Grant  // grantee mailbox → sending grants it holds
	full      map[int64][]*store.Mailbox // grantee mailbox id → mailboxes it may open (full access)
	apps      map[string][]*store.AppPassword
	nets      map[string][]netip.Prefix // "@domain" or mailbox address → parsed networks
	oauth     map[oauthClient][]string  // app-only OAuth client → mailboxes it may act as
	// connectors are the devices that may submit without AUTH, by name.
	connectors []policy.Connector
	// claimed are mailbox and alias addresses holding plusSep (see
	// policy.Sender.Claimed); postmaster maps a served domain to the
	// mailbox that receives its postmaster@ (see Resolve).
	claimed         []string
	postmaster      map[string]*store.Mailbox
	postmasterFound bool // Options.Postmaster names a mailbox or alias
}

// Networks returns the parsed network restriction of a domain ("@" +
// name) or a mailbox (its address); nil means none.
func (s *Snapshot) Networks(key string) []netip.Prefix { return s.nets[key] }

// Domain returns the served domain named domain.
func (s *Snapshot) Domain(domain string) (*store.Domain, bool) {
	d, ok := s.domains[domain]
	return d, ok
}

// Mailbox returns the mailbox whose own address is addr (canonical form).
// It is the lookup for log-in names; Resolve also follows aliases.
func (s *Snapshot) Mailbox(addr string) (*store.Mailbox, bool) {
	m, ok := s.mailboxes[addr]
	return m, ok
}

// Directory serves snapshots and keeps them current.
type Directory struct {
	st       Store
	log      *slog.Logger
	snap     atomic.Pointer[Snapshot]
	interval time.Duration
	plusSep  string
	// postmaster is Options.Postmaster, normalized.
	postmaster string
	// dummyHash is checked for unknown users so that their refusal takes
	// as long as a wrong password's.
	dummyHash string
	cache     *authCache
	now       func() time.Time
	hashes    atomic.Int64
	// slots holds one token per password hash being computed: argon2id
	// takes 19 MiB and a core for tens of milliseconds, so the number at
	// once is what bounds the memory and CPU a burst of logins can take.
	slots chan struct{}
	wake  chan struct{} // Changed: check the version now
}

// Options configure a Directory.
type Options struct {
	// Poll is how often the store's change counter is read. Default 250ms,
	// so a change made by the CLI is seen well within a second.
	Poll time.Duration
	// PlusSeparator is addresses.plus_separator ("" turns it off).
	PlusSeparator string
	// Postmaster is delivery.postmaster: the mailbox or alias that
	// receives postmaster@ of every served domain with no such address;
	// "" (or an address that names no mailbox or alias here, e.g. one
	// that lives upstream) gives each domain's oldest mailbox.
	Postmaster string
	// AuthCacheTTL is how long a verified login is remembered (0 turns the
	// cache off). Any directory change forgets every entry at once.
	AuthCacheTTL time.Duration
	// MaxHashes bounds the password hashes computed at once, server-wide;
	// more wait for a slot (Verify). Default half the cores, at least one:
	// hashes at every core starve the sessions of logged-in clients
	// (BENCHMARKS.md, "Logins under attack").
	MaxHashes int
	// HashParams are the argon2id parameters passwords are hashed with
	// (admin.Service.Params); the dummy hash an unknown user is checked
	// against uses them too, so both cost the same. Default DefaultParams.
	HashParams Params
	// Now is the clock; default time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// ErrBusy is Verify's error when no password hash could start before its
// context ended: MaxHashes were in progress all along.
var ErrBusy = errors.New("too many password checks in progress")

// New loads the first snapshot.
func New(ctx context.Context, st Store, o Options) (*Directory, error) {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.HashParams == (Params{}) {
		o.HashParams = DefaultParams
	}
	dummy, err := HashPassword("mailroom-timing-equalizer", o.HashParams)
	if err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if pm, err := address.Normalize(o.Postmaster); err == nil { // config validated it
		o.Postmaster = pm
	}
	if o.MaxHashes <= 0 {
		o.MaxHashes = max(1, runtime.NumCPU()/2)
	}
	d := &Directory{st: st, log: o.Log, interval: o.Poll, dummyHash: dummy, plusSep: o.PlusSeparator, postmaster: o.Postmaster,
		cache: newAuthCache(o.AuthCacheTTL, 100000), now: o.Now, slots: make(chan struct{}, o.MaxHashes), wake: make(chan struct{}, 1)}
	if err := d.Reload(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// Snapshot returns the current view.
func (d *Directory) Snapshot() *Snapshot { return d.snap.Load() }

// Reload reads the whole directory from the store and publishes it.
func (d *Directory) Reload(ctx context.Context) error {
	// Read the version first: a write racing with the reads below bumps
	// it again, and the next poll reloads.
	v, err := d.st.DirectoryVersion(ctx)
	if err != nil {
		return fmt.Errorf("reload directory: %w", err)
	}
	doms, err := d.st.Domains(ctx)
	if err != nil {
		return fmt.Errorf("reload directory: %w", err)
	}
	mbs, err := d.st.Mailboxes(ctx, "")
	if err != nil {
		return fmt.Errorf("reload directory: %w", err)
	}
	als, err := d.st.Aliases(ctx)
	if err != nil {
		return fmt.Errorf("reload directory: %w", err)
	}
	grs, err := d.st.Grants(ctx)
	if err != nil {
		return fmt.Errorf("reload directory: %w", err)
	}
	aps, err := d.st.AppPasswords(ctx, "")
	if err != nil {
		return fmt.Errorf("reload directory: %w", err)
	}
	ocs, err := d.st.OAuthClients(ctx)
	if err != nil {
		return fmt.Errorf("reload directory: %w", err)
	}
	cons, err := d.st.Connectors(ctx)
	if err != nil {
		return fmt.Errorf("reload directory: %w", err)
	}
	s := &Snapshot{
		Version: v, plusSep: d.plusSep,
		domains:   make(map[string]*store.Domain, len(doms)),
		mailboxes: make(map[string]*store.Mailbox, len(mbs)),
		aliases:   make(map[string]*store.Mailbox, len(als)),
		owned:     make(map[string][]string),
		grants:    make(map[string][]policy.Grant),
		full:      make(map[int64][]*store.Mailbox),
		apps:      make(map[string][]*store.AppPassword),
		nets:      make(map[string][]netip.Prefix),
		oauth:     indexOAuthClients(ocs),
	}
	for i := range doms {
		s.domains[doms[i].Name] = &doms[i]
		s.nets["@"+doms[i].Name] = d.parseNets(doms[i].Name, doms[i].Networks)
	}
	for i := range mbs {
		s.mailboxes[mbs[i].Address] = &mbs[i]
		s.nets[mbs[i].Address] = d.parseNets(mbs[i].Address, mbs[i].Networks)
	}
	for i := range aps {
		s.apps[aps[i].Mailbox] = append(s.apps[aps[i].Mailbox], &aps[i])
	}
	for _, a := range als {
		if m, ok := s.mailboxes[a.Mailbox]; ok {
			s.aliases[a.Address] = m
			s.owned[a.Mailbox] = append(s.owned[a.Mailbox], a.Address)
		}
	}
	for _, g := range grs {
		if g.Kind != store.GrantFullAccess {
			s.grants[g.Grantee] = append(s.grants[g.Grantee], policy.Grant{Kind: g.Kind, On: g.On})
			continue
		}
		grantee, ok1 := s.mailboxes[g.Grantee]
		target, ok2 := s.mailboxes[g.On]
		if ok1 && ok2 {
			s.full[grantee.ID] = append(s.full[grantee.ID], target)
		}
	}
	s.connectors = d.connectors(cons)
	d.indexAddresses(s, d.snap.Load())
	d.snap.Store(s)
	return nil
}

// Changed tells Run that the store says the directory changed (PostgreSQL's
// LISTEN/NOTIFY, wired by the daemon): it checks the change counter at
// once instead of at the next poll. It never blocks.
func (d *Directory) Changed() {
	select {
	case d.wake <- struct{}{}:
	default: // a check is already due
	}
}

// Run polls the store's change counter until ctx ends and reloads when it
// moves; Changed makes it check before the next poll.
func (d *Directory) Run(ctx context.Context) {
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
		v, err := d.st.DirectoryVersion(ctx)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("directory poll", "err", err)
			}
			continue
		}
		if v == d.Snapshot().Version {
			continue
		}
		if err := d.Reload(ctx); err != nil {
			d.log.Warn("directory reload", "err", err)
			continue
		}
		d.log.Info("directory reloaded", "version", v)
	}
}

// parseNets parses stored CIDR prefixes; admin validates them, so a bad
// one is only logged.
func (d *Directory) parseNets(owner string, nets []string) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range nets {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			d.log.Error("stored network unreadable", "owner", owner, "network", n, "err", err)
			continue
		}
		out = append(out, p.Masked())
	}
	return out
}

// Credential is what a verified login used.
type Credential struct {
	Mailbox     *store.Mailbox     // nil when the user names no mailbox
	AppPassword *store.AppPassword // nil for the mailbox password
}

// Verify checks a password for the canonical address user: the mailbox
// password, or one of its app passwords (found by its lookup prefix). It
// reports whether the password matched. Every call costs one hash, so
// unknown users cost as much as known ones, unless the same credentials
// were verified within the auth cache's TTL at the current directory
// version. The hash waits for one of MaxHashes slots until ctx ends, and
// then returns ErrBusy.
func (d *Directory) Verify(ctx context.Context, user, password string) (Credential, bool, error) {
	snap := d.Snapshot()
	now := d.now()
	if e, ok := d.cache.get(user, password, snap.Version, now); ok {
		if c, ok := snap.credential(e); ok {
			return c, true, nil
		}
	}
	// Logins with the same credentials at the same moment (a pool of
	// connections opening together) share one hash.
	c, ok, err := d.cache.once(user, password, snap.Version, func() (Credential, bool, error) {
		return d.verify(ctx, snap, user, password)
	})
	if ok {
		e := cached{mailbox: c.Mailbox.Address}
		if c.AppPassword != nil {
			e.appID = c.AppPassword.ID
		}
		d.cache.put(user, password, snap.Version, now, e)
	}
	return c, ok, err
}

// AuthCacheStats returns the auth cache's hits and misses.
func (d *Directory) AuthCacheStats() (hits, misses int64) {
	d.cache.mu.Lock()
	defer d.cache.mu.Unlock()
	return d.cache.hits, d.cache.misses
}

// credential rebuilds a cached credential from the snapshot.
func (s *Snapshot) credential(e cached) (Credential, bool) {
	m, ok := s.mailboxes[e.mailbox]
	if !ok {
		return Credential{}, false
	}
	c := Credential{Mailbox: m}
	if e.appID != 0 {
		for _, ap := range s.apps[m.Address] {
			if ap.ID == e.appID {
				c.AppPassword = ap
			}
		}
		if c.AppPassword == nil {
			return Credential{}, false
		}
	}
	return c, true
}

// Hashes returns how many password hashes Verify has computed.
func (d *Directory) Hashes() int64 { return d.hashes.Load() }

// verify checks the password against the stored hash: one argon2id,
// whether or not the user exists. An unknown user, or a mailbox without a
// password (a shared one), is checked against a dummy hash of
// Options.HashParams, the parameters every password is hashed with, so the
// work, the memory and the time are the same.
func (d *Directory) verify(ctx context.Context, snap *Snapshot, user, password string) (Credential, bool, error) {
	m, ok := snap.Mailbox(user)
	if !ok {
		_, err := d.check(ctx, d.dummyHash, password)
		return Credential{}, false, err
	}
	c := Credential{Mailbox: m}
	hash := m.PasswordHash
	if len(password) > appLookupLen {
		for _, ap := range snap.apps[m.Address] {
			if appLookup(ap.PasswordHash) == password[:appLookupLen] {
				c.AppPassword, hash = ap, ap.PasswordHash[appLookupLen:]
				break
			}
		}
	}
	if hash == "" {
		_, err := d.check(ctx, d.dummyHash, password)
		return c, false, err
	}
	match, err := d.check(ctx, hash, password)
	if errors.Is(err, ErrBadHash) {
		d.log.Error("stored password hash unreadable", "mailbox", user, "err", err)
		return c, false, nil
	}
	return c, match, err
}

// check computes one hash in one of the MaxHashes slots, waiting for a
// slot until ctx ends (a free slot is taken even then).
func (d *Directory) check(ctx context.Context, hash, password string) (bool, error) {
	select {
	case d.slots <- struct{}{}:
	default:
		select {
		case d.slots <- struct{}{}:
		case <-ctx.Done():
			return false, fmt.Errorf("wait for a password hash slot (%d in progress): %w", cap(d.slots), ErrBusy)
		}
	}
	defer func() { <-d.slots }()
	d.hashes.Add(1)
	return CheckPassword(hash, password)
}
