package retention_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"mailroom/internal/blob"
	"mailroom/internal/retention"
	"mailroom/internal/store"
	"mailroom/internal/store/sqlite"
)

func TestSweep_TraceRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blobs, err := blob.Open(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	err = db.AppendTrace(ctx, []store.TraceEvent{
		{At: now.Add(-31 * 24 * time.Hour), Session: "old", Kind: "session"},
		{At: now.Add(-29 * 24 * time.Hour), Session: "kept", Kind: "session"},
	})
	if err != nil {
		t.Fatal(err)
	}
	sw := &retention.Sweeper{Store: db, Blobs: blobs, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }, TraceRetention: 30 * 24 * time.Hour}
	r, err := sw.Sweep(ctx)
	if err != nil || r.Traced != 1 {
		t.Fatalf("sweep: %+v %v", r, err)
	}
	left, _ := db.SearchTrace(ctx, store.TraceFilter{})
	if len(left) != 1 || left[0].Session != "kept" {
		t.Fatalf("left: %+v", left)
	}
}
