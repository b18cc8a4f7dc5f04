package trace_test

import (
	"context"
	"path/filepath"
	"testing"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlite"
	"mailroom/internal/trace"
)

func TestWriter_FlushAndClose(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := trace.NewWriter(db, nil)
	for range trace.BatchSize + 10 {
		w.Record(store.TraceEvent{Kind: trace.KindSession, Session: "c1"})
	}
	w.Flush()
	got, err := db.SearchTrace(ctx, store.TraceFilter{Sessions: []string{"c1"}})
	if err != nil || len(got) != trace.BatchSize+10 || got[0].At.IsZero() {
		t.Fatalf("after Flush: %d events, %v", len(got), err)
	}
	w.Record(store.TraceEvent{Kind: trace.KindSession, Session: "c2"})
	w.Close()
	w.Close()                                                          // twice is fine
	w.Record(store.TraceEvent{Kind: trace.KindSession, Session: "c3"}) // dropped, no panic
	got, _ = db.SearchTrace(ctx, store.TraceFilter{Sessions: []string{"c2", "c3"}})
	if len(got) != 1 {
		t.Fatalf("Close did not write the buffered event, or Record after Close did: %d", len(got))
	}
	var nilW *trace.Writer
	nilW.Record(store.TraceEvent{})
	nilW.Flush()
	nilW.Close()
}
