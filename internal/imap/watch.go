package imap

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"mailroom/internal/store"
)

// watcher tells idling sessions that their mailbox's folders changed:
// one goroutine probes the folder states (store.FolderStates, one query)
// of every watched mailbox each interval, so the store sees one query per
// interval however many sessions idle. It runs only while someone
// watches.
type watcher struct {
	st    store.Folders
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	subs    map[int64]map[*watch]struct{} // mailbox id → its watches
	running bool
	stop    chan struct{}
	done    sync.WaitGroup
}

// watch is one session's subscription: c receives a value (never blocks
// the watcher) when a folder of the mailbox changed.
type watch struct {
	mailbox int64
	c       chan struct{}
}

func newWatcher(st store.Folders, every time.Duration, log *slog.Logger) *watcher {
	return &watcher{st: st, every: every, log: log, subs: map[int64]map[*watch]struct{}{}, stop: make(chan struct{})}
}

// subscribe watches the folders of a mailbox.
func (w *watcher) subscribe(mailbox int64) *watch {
	x := &watch{mailbox: mailbox, c: make(chan struct{}, 1)}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.subs[mailbox] == nil {
		w.subs[mailbox] = map[*watch]struct{}{}
	}
	w.subs[mailbox][x] = struct{}{}
	if !w.running {
		select {
		case <-w.stop: // closed: nothing runs
		default:
			w.running = true
			w.done.Add(1)
			go w.run()
		}
	}
	return x
}

// unsubscribe ends a watch.
func (w *watcher) unsubscribe(x *watch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.subs[x.mailbox], x)
	if len(w.subs[x.mailbox]) == 0 {
		delete(w.subs, x.mailbox)
	}
}

// close stops the prober and waits for it.
func (w *watcher) close() {
	w.mu.Lock()
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.mu.Unlock()
	w.done.Wait()
}

// run probes until nobody watches or close.
func (w *watcher) run() {
	defer w.done.Done()
	last := map[int64]map[store.Folder]store.FolderState{}
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		w.mu.Lock()
		ids := slices.Sorted(maps.Keys(w.subs))
		if len(ids) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		states, err := w.st.FolderStates(ctx, ids)
		cancel()
		if err != nil {
			w.log.Warn("probe folder states", "err", err)
			continue
		}
		now := map[int64]map[store.Folder]store.FolderState{}
		for _, s := range states {
			if now[s.MailboxID] == nil {
				now[s.MailboxID] = map[store.Folder]store.FolderState{}
			}
			now[s.MailboxID][s.Name] = s
		}
		w.mu.Lock()
		for _, id := range ids {
			if old, ok := last[id]; ok && maps.Equal(old, now[id]) {
				continue
			}
			for x := range w.subs[id] {
				select {
				case x.c <- struct{}{}:
				default:
				}
			}
		}
		w.mu.Unlock()
		last = now
	}
}
