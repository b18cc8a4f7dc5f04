package store

import "context"

// Stats are the cheap counts /metrics reads at every scrape.
type Stats interface {
	// QueueDepth counts the queue rows still to be delivered. It reads an
	// index only, so a scrape every few seconds costs nothing noticeable.
	QueueDepth(ctx context.Context) (QueueDepth, error)
}

// QueueDepth is the number of recipients waiting in the queue.
type QueueDepth struct {
	Queued   int64 // in StateQueued, never attempted
	Deferred int64 // in StateQueued after at least one transient failure
}
