// Package retention owns the removal of what mailroom no longer keeps:
// Sent Items entries older than their mailbox's retention, message bodies
// that no folder entry and no pending queue row references, and submission
// log records older than the 24 hours the limits look back.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"mailroom/internal/blob"
	"mailroom/internal/store"
)

// batch bounds one DeleteUnreferenced transaction.
const batch = 500

// Sweeper removes expired entries and unreferenced bodies.
type Sweeper struct {
	Store store.Store
	Blobs blob.Store
	Log   *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// TraceRetention, when positive, is how long trace events are kept.
	TraceRetention time.Duration
}

// Result counts what one Sweep removed.
type Result struct {
	Expired int // folder entries past retention
	Traced  int // trace events past trace.retention
	Freed   int // message bodies (blob files) removed
}

// Sweep runs once: expire Sent Items by each mailbox's retention, then free
// the bodies nothing references. Rows go first and files after, so a crash
// in between leaves at worst an orphan file, never a row without its body.
func (s *Sweeper) Sweep(ctx context.Context) (Result, error) {
	var r Result
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	mbs, err := s.Store.Mailboxes(ctx, "")
	if err != nil {
		return r, fmt.Errorf("sweep: %w", err)
	}
	for _, m := range mbs {
		if m.SentRetention <= 0 {
			continue
		}
		n, err := s.Store.ExpireFolderEntries(ctx, m.ID, store.FolderSent, now().Add(-m.SentRetention))
		if err != nil {
			return r, fmt.Errorf("sweep %s: %w", m.Address, err)
		}
		r.Expired += n
	}
	// The rate and budget counters need 24 hours of the submission log.
	if err := s.Store.PruneSubmissionLog(ctx, now().Add(-25*time.Hour)); err != nil {
		return r, fmt.Errorf("sweep submission log: %w", err)
	}
	if err := s.sweepTrace(ctx, now(), &r); err != nil {
		return r, err
	}
	// Bodies stored on their own for an acceptance that then failed, and
	// whose removal failed too (the database gone twice), go after an hour.
	orphans, err := s.Store.DeleteOrphanBodies(ctx, now().Add(-time.Hour))
	if err != nil {
		return r, fmt.Errorf("sweep orphan bodies: %w", err)
	}
	r.Freed += orphans
	for {
		keys, err := s.Store.DeleteUnreferenced(ctx, batch)
		if err != nil {
			return r, fmt.Errorf("sweep bodies: %w", err)
		}
		if err := s.Blobs.Remove(keys...); err != nil {
			return r, fmt.Errorf("sweep bodies: %w", err)
		}
		r.Freed += len(keys)
		if len(keys) == 0 {
			return r, nil
		}
	}
}

// Run sweeps every interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r, err := s.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.Log.Error("retention sweep", "err", err)
		case r.Expired > 0 || r.Freed > 0 || r.Traced > 0:
			s.Log.Info("retention sweep", "expired_entries", r.Expired, "freed_bodies", r.Freed, "trace_events", r.Traced)
		}
	}
}

// SweepOrphans removes body files in the shards since since, last
// modified before before, whose message row does not exist: a crash
// between a body's fsync and the commit of its rows leaves one (the client
// never got its 250). The daemon calls it after an unclean stop with before
// set to its own start, so no acceptance of the running process can own a
// file it looks at. Keys are "<queue id>.eml" and "<queue id>.dlv.eml".
func (s *Sweeper) SweepOrphans(ctx context.Context, since, before time.Time) (int, error) {
	cutoff := before
	removed := 0
	err := s.Blobs.Walk(blob.ShardOf(since), func(key string, mod time.Time) error {
		if !mod.Before(cutoff) {
			return nil
		}
		id, _, _ := strings.Cut(key, ".")
		_, err := s.Store.Message(ctx, id)
		if !errors.Is(err, store.ErrNotFound) {
			return err // referenced (nil), or a store error that stops the sweep
		}
		if err := s.Blobs.Remove(key); err != nil {
			return err
		}
		removed++
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("sweep orphan bodies: %w", err)
	}
	return removed, nil
}
