package limits

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mailroom/internal/store"
)

// syncBuf is a log sink the test can read while Acquire writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) { b.mu.Lock(); defer b.mu.Unlock(); return b.b.Write(p) }
func (b *syncBuf) String() string              { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func TestWaiting(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	lim := store.Limits{Concurrent: 1, MessagesPerMinute: 100}
	kindOf := func(err error) Kind {
		var ref *Refusal
		if errors.As(err, &ref) {
			return ref.Kind
		}
		return 0
	}

	t.Run("no wait refuses at once", func(t *testing.T) {
		w := NewWaiting(New(), 0, nil)
		h, err := w.Acquire(ctx, 1, lim, now)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Abort()
		if _, err := w.Acquire(ctx, 1, lim, now); kindOf(err) != KindConcurrent {
			t.Fatalf("second transaction: %v, want a concurrency refusal", err)
		}
	})

	t.Run("a release within the wait lets the waiter through", func(t *testing.T) {
		var log syncBuf
		w := NewWaiting(New(), time.Hour, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})))
		w.Poll = time.Hour // only the release may wake it
		h, err := w.Acquire(ctx, 1, lim, now)
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan error, 1)
		go func() {
			h2, err := w.Acquire(ctx, 1, lim, now)
			if err == nil {
				h2.Abort()
			}
			got <- err
		}()
		for !strings.Contains(log.String(), "waiting for a concurrency slot") {
			time.Sleep(time.Millisecond)
		}
		h.Commit(now)
		if err := <-got; err != nil {
			t.Fatalf("waiter: %v", err)
		}
	})

	t.Run("no release within the wait is the refusal", func(t *testing.T) {
		w := NewWaiting(New(), 20*time.Millisecond, nil)
		h, err := w.Acquire(ctx, 1, lim, now)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Abort()
		if _, err := w.Acquire(ctx, 1, lim, now); kindOf(err) != KindConcurrent {
			t.Fatalf("after the wait: %v, want a concurrency refusal", err)
		}
	})

	t.Run("another mailbox's release does not help, its own slots are its own", func(t *testing.T) {
		w := NewWaiting(New(), 20*time.Millisecond, nil)
		h, _ := w.Acquire(ctx, 1, lim, now)
		defer h.Abort()
		other, err := w.Acquire(ctx, 2, lim, now)
		if err != nil {
			t.Fatalf("mailbox 2: %v", err)
		}
		other.Abort()
		if _, err := w.Acquire(ctx, 1, lim, now); kindOf(err) != KindConcurrent {
			t.Fatalf("mailbox 1: %v, want a concurrency refusal", err)
		}
	})

	t.Run("a rate refusal does not wait", func(t *testing.T) {
		w := NewWaiting(New(), time.Hour, nil)
		rate := store.Limits{Concurrent: 5, MessagesPerMinute: 1}
		h, err := w.Acquire(ctx, 1, rate, now)
		if err != nil {
			t.Fatal(err)
		}
		h.Commit(now)
		if _, err := w.Acquire(ctx, 1, rate, now); kindOf(err) != KindRate {
			t.Fatalf("second message in the minute: %v, want a rate refusal", err)
		}
	})
}
