// Package directory owns the server's read model of domains and mailboxes:
// an in-memory snapshot of the store, verified logins (argon2id), and the
// reload that makes a change written by another process (the CLI) visible
// within a second. Writes go through package admin, not here.
package directory

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"mailroom/internal/store"
)

// Snapshot is one consistent view of the directory. It is never modified
// after it is published.
type Snapshot struct {
	Version   int64
	domains   map[string]bool
	mailboxes map[string]*store.Mailbox
}

// ServesDomain reports whether domain (canonical form) is one of ours.
func (s *Snapshot) ServesDomain(domain string) bool { return s.domains[domain] }

// Mailbox returns the mailbox with the canonical address addr.
func (s *Snapshot) Mailbox(addr string) (*store.Mailbox, bool) {
	m, ok := s.mailboxes[addr]
	return m, ok
}

// Directory serves snapshots and keeps them current.
type Directory struct {
	st       store.Directory
	log      *slog.Logger
	snap     atomic.Pointer[Snapshot]
	interval time.Duration
	// dummyHash is checked for unknown users so that their refusal takes
	// as long as a wrong password's.
	dummyHash string
}

// Options configure a Directory.
type Options struct {
	// Poll is how often the store's change counter is read. Default 250ms,
	// so a change made by the CLI is seen well within a second.
	Poll time.Duration
	Log  *slog.Logger
}

// New loads the first snapshot.
func New(ctx context.Context, st store.Directory, o Options) (*Directory, error) {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	dummy, err := HashPassword("mailroom-timing-equalizer", DefaultParams)
	if err != nil {
		return nil, err
	}
	d := &Directory{st: st, log: o.Log, interval: o.Poll, dummyHash: dummy}
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
	s := &Snapshot{Version: v, domains: make(map[string]bool, len(doms)), mailboxes: make(map[string]*store.Mailbox, len(mbs))}
	for _, dm := range doms {
		s.domains[dm.Name] = true
	}
	for i := range mbs {
		s.mailboxes[mbs[i].Address] = &mbs[i]
	}
	d.snap.Store(s)
	return nil
}

// Run polls the store's change counter until ctx ends and reloads when it
// moves.
func (d *Directory) Run(ctx context.Context) {
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
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

// Verify checks a password for the canonical address user. It returns the
// mailbox (nil when none) and whether the password matched. Unknown users
// cost as much as known ones.
func (d *Directory) Verify(user, password string) (*store.Mailbox, bool) {
	m, ok := d.Snapshot().Mailbox(user)
	if !ok || m.PasswordHash == "" {
		_, _ = CheckPassword(d.dummyHash, password)
		return m, false
	}
	match, err := CheckPassword(m.PasswordHash, password)
	if err != nil {
		d.log.Error("stored password hash unreadable", "mailbox", user, "err", err)
		return m, false
	}
	return m, match
}
