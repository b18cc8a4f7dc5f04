package daemon

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Idle memory release. Go's garbage collector lets the heap grow to about
// twice what is live (GOGC=100, goroutine stacks included) and keeps the
// pages it freed for reuse; nothing hands them back while the process
// allocates too little to trigger another collection. A server holding
// thousands of idle sessions is exactly that: after the burst of TLS
// handshakes that opened them, half its resident memory is garbage or
// free heap it will not need until the next burst. When the process has
// gone quiet and that slack is large, one forced collection returns it to
// the operating system (issue 8: 10,000 idle sessions under 400 MiB).
const (
	// memoryCheckEvery is how often the heap is looked at.
	memoryCheckEvery = 5 * time.Second
	// quietAllocBytes: allocating less than this between two looks is
	// quiet. A few messages a second allocate more.
	quietAllocBytes = 4 << 20
	// releaseSlackBytes: the heap must hold at least this much more than
	// was live at the last collection for a release to be worth a GC.
	releaseSlackBytes = 32 << 20
)

// releaseIdleMemory looks at the heap every period and returns its slack
// to the operating system whenever the process was quiet since the last
// look and the slack is large, until ctx ends.
func releaseIdleMemory(ctx context.Context, log *slog.Logger, every time.Duration) {
	s := []metrics.Sample{
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"}, // live and not yet collected
		{Name: "/memory/classes/heap/free:bytes"},    // free, not yet returned
		{Name: "/gc/heap/live:bytes"},                // live at the last collection
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(s)
		allocs, objects, free, live := s[0].Value.Uint64(), s[1].Value.Uint64(), s[2].Value.Uint64(), s[3].Value.Uint64()
		quiet := allocs-last < quietAllocBytes
		last = allocs
		if slack := objects + free - min(live, objects); quiet && slack >= releaseSlackBytes {
			debug.FreeOSMemory()
			log.Debug("returned idle heap memory to the system", "bytes", slack)
		}
	}
}
