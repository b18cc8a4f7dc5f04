package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// destinations caps and reuses connections per destination. A
// destination's slot is held for as long as a connection to it is open,
// idle or in use, so at most cap connections are open to it; an idle one
// is always taken before a new one is dialed.
type destinations struct {
	cap  int
	idle time.Duration
	log  *slog.Logger

	mu sync.Mutex
	m  map[string]*destination
}

type destination struct {
	key     string
	open    int       // connections open, idle or in use
	idle    []*client // most recently used last
	changed chan struct{}
}

func newDestinations(cap int, idle time.Duration, log *slog.Logger) *destinations {
	return &destinations{cap: cap, idle: idle, log: log, m: map[string]*destination{}}
}

// acquire returns an idle connection of key, or nil and the right to dial
// a new one (a slot). It waits while the destination is at its cap.
func (ds *destinations) acquire(ctx context.Context, key string) (*client, error) {
	for {
		ds.mu.Lock()
		d := ds.m[key]
		if d == nil {
			d = &destination{key: key, changed: make(chan struct{})}
			ds.m[key] = d
		}
		if n := len(d.idle); n > 0 {
			c := d.idle[n-1]
			d.idle = d.idle[:n-1]
			c.timer.Stop()
			ds.mu.Unlock()
			return c, nil
		}
		if d.open < ds.cap {
			d.open++
			ds.mu.Unlock()
			return nil, nil
		}
		ch := d.changed
		ds.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// put makes c idle; after the idle timeout it is closed.
func (ds *destinations) put(key string, c *client) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d := ds.m[key]
	d.idle = append(d.idle, c)
	c.timer = time.AfterFunc(ds.idle, func() { ds.expire(key, c) })
	d.signal()
}

// expire closes c if it is still idle.
func (ds *destinations) expire(key string, c *client) {
	ds.mu.Lock()
	d := ds.m[key]
	found := false
	if d != nil {
		for i, x := range d.idle {
			if x == c {
				d.idle = append(d.idle[:i], d.idle[i+1:]...)
				found = true
				break
			}
		}
	}
	ds.mu.Unlock()
	if found {
		c.quit()
		ds.release(key)
	}
}

// release gives back the slot of a connection that was closed or never
// made.
func (ds *destinations) release(key string) {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	d := ds.m[key]
	if d == nil {
		return
	}
	d.open--
	d.signal()
	if d.open == 0 {
		delete(ds.m, key)
	}
}

// closeIdle quits every idle connection.
func (ds *destinations) closeIdle() {
	ds.mu.Lock()
	var cs []*client
	var keys []string
	for k, d := range ds.m {
		for _, c := range d.idle {
			c.timer.Stop()
			cs = append(cs, c)
			keys = append(keys, k)
		}
		d.idle = nil
	}
	ds.mu.Unlock()
	for i, c := range cs {
		c.quit()
		ds.release(keys[i])
	}
}

// signal wakes the waiters of d; ds.mu is held.
func (d *destination) signal() {
	close(d.changed)
	d.changed = make(chan struct{})
}
