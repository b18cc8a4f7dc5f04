package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReleaseIdleMemory: a burst of garbage followed by quiet is handed
// back to the operating system.
func TestReleaseIdleMemory(t *testing.T) {
	// No collection between the burst and the look: otherwise the runtime
	// may return the burst itself (its heap goal is small in a test), and
	// there would be nothing left to see.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var log syncLog
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		releaseIdleMemory(ctx, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})), 20*time.Millisecond)
	}()
	defer func() { cancel(); <-done }()

	if garbage(64) != 64 {
		t.Fatal("the burst went missing")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "returned idle heap memory") {
		if time.Now().After(deadline) {
			t.Fatalf("64 MiB of garbage then quiet: nothing returned; log:\n%s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s := []metrics.Sample{{Name: "/memory/classes/heap/free:bytes"}}
	if metrics.Read(s); s[0].Value.Uint64() >= 32<<20 {
		t.Errorf("%d bytes of free heap kept after the release", s[0].Value.Uint64())
	}
}

// garbage allocates n MiB and drops them.
func garbage(n int) int {
	burst := make([][]byte, n)
	sum := 0
	for i := range burst {
		burst[i] = make([]byte, 1<<20)
		burst[i][i] = 1
		sum += int(burst[i][i])
	}
	return sum
}

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
