package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"mailroom/internal/config"
	"mailroom/internal/directory"
	"mailroom/internal/limits"
	"mailroom/internal/store"
)

// limiter is what the daemon needs of either limits implementation: the
// submission backend's Limiter, and the in-flight counts it publishes.
type limiter interface {
	Acquire(ctx context.Context, mailboxID int64, lim store.Limits, now time.Time) (limits.Hold, error)
	InFlight() map[int64]int
}

// startLimits builds the per-mailbox limits. On SQLite (one node) they
// live in memory, and the rolling recipient budget is rebuilt from the
// durable submission log so a restart never hands out a fresh day. On
// PostgreSQL every node shares them through leases in the store, renewed
// until wctx ends; and the directory also reloads when another node's
// write is notified (LISTEN/NOTIFY), not only at its poll.
func (d *Daemon) startLimits(ctx, wctx context.Context, dir *directory.Directory) (limiter, error) {
	ls, shared := d.st.(store.Leases)
	if !shared || d.cfg.Store.Driver != config.DriverPostgres {
		tracker := limits.New()
		recs, err := d.st.SubmissionLog(ctx, time.Now().Add(-24*time.Hour))
		if err != nil {
			return nil, fmt.Errorf("load submission log: %w", err)
		}
		tracker.Load(recs)
		return tracker, nil
	}
	ttl := d.cfg.Store.LeaseTTL.Std()
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	node, err := nodeName()
	if err != nil {
		return nil, err
	}
	sh := limits.NewShared(ls, node, ttl, d.log)
	d.workers.Go(func() { sh.Run(wctx) })
	if l, ok := d.st.(directoryListener); ok {
		d.workers.Go(func() { d.listenDirectory(wctx, l, dir) })
	}
	d.log.Info("limits shared through the store", "node", node, "lease_ttl", ttl)
	return sh, nil
}

// directoryListener is the store's notification of directory writes
// (store/postgres ListenDirectory).
type directoryListener interface {
	ListenDirectory(ctx context.Context, changed func()) error
}

// listenDirectory makes dir check for changes whenever the store notifies
// one, reconnecting after a second when the listening connection fails;
// the directory's poll covers the gaps.
func (d *Daemon) listenDirectory(ctx context.Context, l directoryListener, dir *directory.Directory) {
	for {
		err := l.ListenDirectory(ctx, dir.Changed)
		if ctx.Err() != nil {
			return
		}
		d.log.Warn("directory notifications", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// nodeName names this process in its leases: host, process id and a
// random part, so that a restarted node never renews a dead one's leases.
func nodeName() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("node name: %w", err)
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(rnd[:])), nil
}
