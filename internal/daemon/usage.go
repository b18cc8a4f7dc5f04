package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/limits"
)

// publishUsage writes the transactions in flight per mailbox to path every
// second while they change, so `mailroom mailbox show` (another process)
// can print them; and now and then lets the login guard forget old state.
func (d *Daemon) publishUsage(ctx context.Context, tr interface{ InFlight() map[int64]int }, guard *limits.LoginGuard, path string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		d.log.Warn("publish usage", "err", err)
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	defer os.Remove(path)
	var last map[int64]int
	lastWrite := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if now.Minute()%5 == 0 && now.Second() == 0 {
				guard.Forget(now)
			}
			cur := tr.InFlight()
			// Rewrite when it changed, and every few seconds so readers
			// can tell a live file from one a crash left behind.
			if maps.Equal(cur, last) && now.Sub(lastWrite) < admin.UsageFresh/2 {
				continue
			}
			b, err := json.Marshal(admin.LiveUsage{At: now, InFlight: cur})
			if err != nil {
				continue
			}
			if err := replaceFile(path, b); err != nil {
				d.log.Warn("publish usage", "err", err)
				continue
			}
			last, lastWrite = cur, now
		}
	}
}

// replaceFile writes b to path through a temporary file and a rename, so
// that a reader sees the old content or the new, never a part.
func replaceFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o640); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}
