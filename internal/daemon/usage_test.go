package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailroom/internal/limits"
)

// TestPublishUsage_WriteFailureLogged: a usage file that cannot be written
// is a warning, not a silent success (the write's error was once shadowed).
func TestPublishUsage_WriteFailureLogged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "usage.json")
	// A directory where the temporary file goes: the write fails, root or not.
	if err := os.Mkdir(path+".tmp", 0o750); err != nil {
		t.Fatal(err)
	}
	var log syncLog
	d := &Daemon{log: slog.New(slog.NewTextHandler(&log, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.publishUsage(ctx, limits.New(), &limits.LoginGuard{}, path)
	}()
	defer func() { cancel(); <-done }()

	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "publish usage") {
		if time.Now().After(deadline) {
			t.Fatalf("the usage file could not be written and nothing was logged; log:\n%s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "is a directory") {
		t.Errorf("the warning does not carry the write's error:\n%s", log.String())
	}
}
