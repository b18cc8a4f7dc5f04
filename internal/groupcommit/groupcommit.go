// Package groupcommit owns the batching of durable writes: callers that
// arrive while a commit is running wait together and share the next one,
// so N concurrent acceptances cost one fsync instead of N, and each caller
// still returns only when its own item is durable.
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("group commit closed")

// Batcher runs Commit over batches of the items passed to Do.
type Batcher[T any] struct {
	commit  func(items []T) error
	max     int
	reqs    chan request[T]
	done    chan struct{} // closed by Close
	stopped chan struct{} // closed when the loop has exited
	once    sync.Once
	wg      sync.WaitGroup

	batches atomic.Int64
	items   atomic.Int64
}

type request[T any] struct {
	item  T
	reply chan error
}

// New starts a Batcher. commit must make every item of the batch durable,
// or none; when a batch of several fails, each item is retried alone so
// that one bad item does not fail its neighbours. max bounds a batch.
func New[T any](max int, commit func(items []T) error) *Batcher[T] {
	b := &Batcher[T]{commit: commit, max: max, reqs: make(chan request[T], max), done: make(chan struct{}), stopped: make(chan struct{})}
	b.wg.Add(1)
	go b.loop()
	return b
}

// Do hands item to the next commit and waits for its answer. If ctx ends
// before the item is handed over, Do returns ctx's error and the item is
// not committed; once handed over, Do waits for the commit (which bounds
// its own time), so a nil error means written and any other means not.
// (Returning ctx's error after the hand-over made a caller remove the
// bodies of a message whose rows then committed.)
func (b *Batcher[T]) Do(ctx context.Context, item T) error {
	select {
	case <-b.done:
		return ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r := request[T]{item: item, reply: make(chan error, 1)}
	select {
	case b.reqs <- r:
	case <-b.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-r.reply:
		return err
	case <-b.stopped:
		// Closed with r still queued: the loop answers what it took, so
		// a reply may have raced in.
		select {
		case err := <-r.reply:
			return err
		default:
			return ErrClosed
		}
	}
}

// Stats returns how many batches were committed and how many items they held.
func (b *Batcher[T]) Stats() (batches, items int64) { return b.batches.Load(), b.items.Load() }

// Close stops the Batcher after the batch in progress; later Do calls get
// ErrClosed.
func (b *Batcher[T]) Close() {
	b.once.Do(func() { close(b.done) })
	b.wg.Wait()
}

func (b *Batcher[T]) loop() {
	defer b.wg.Done()
	defer close(b.stopped)
	batch := make([]request[T], 0, b.max)
	items := make([]T, 0, b.max)
	for {
		select {
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		case <-b.done:
			return
		}
		// Take whatever else is already waiting, without waiting for more:
		// a lone caller is committed at once.
	fill:
		for len(batch) < b.max {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		items = items[:0]
		for _, r := range batch {
			items = append(items, r.item)
		}
		err := b.commit(items)
		b.batches.Add(1)
		b.items.Add(int64(len(items)))
		if err == nil || len(batch) == 1 {
			for _, r := range batch {
				r.reply <- err
			}
			continue
		}
		for _, r := range batch {
			err := b.commit([]T{r.item})
			b.batches.Add(1)
			r.reply <- err
		}
	}
}
