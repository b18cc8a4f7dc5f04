package acme

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
)

// DB keeps the account, certificates and locks of a cluster in its
// database (store/postgres implements it). Keys are slash-separated
// paths; a key's "directory" is every key under key + "/".
type DB interface {
	// PutACME stores value at key, replacing any value there.
	PutACME(ctx context.Context, key string, value []byte) error
	// GetACME returns the value at key and when it was stored; an error
	// matching fs.ErrNotExist if there is none.
	GetACME(ctx context.Context, key string) ([]byte, time.Time, error)
	// StatACME returns the size and time of the value at key.
	StatACME(ctx context.Context, key string) (size int64, modified time.Time, found bool, err error)
	// DeleteACME deletes key and every key under it.
	DeleteACME(ctx context.Context, key string) error
	// ACMEKeys returns the keys under prefix + "/" in byte order (all
	// keys for "").
	ACMEKeys(ctx context.Context, prefix string) ([]string, error)
	// TryLockACME takes lock name for owner until ttl from now if it is
	// free or its holder's time ran out.
	TryLockACME(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// RefreshLockACME pushes owner's lock to ttl from now; false if
	// owner lost it.
	RefreshLockACME(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// UnlockACME releases owner's lock name.
	UnlockACME(ctx context.Context, name, owner string) error
}

// Lock timing of DBStorage: a held lock is refreshed every LockTTL/3, so
// a node that dies holds its locks at most LockTTL; a waiting Lock tries
// again every lockPoll.
const (
	LockTTL  = 30 * time.Second
	lockPoll = time.Second
)

// DBStorage is a certmagic.Storage over a DB: every node of a cluster
// that shares the database shares the ACME account and certificates, and
// the locks that make one of them order or renew a certificate while the
// others wait and then load its result. A lock's holder keeps it fresh in
// the background; if the holder dies, the lock is free LockTTL later.
type DBStorage struct {
	db       DB
	ttl      time.Duration
	poll     time.Duration
	mu       sync.Mutex
	held     map[string]heldLock // lock name → this process's hold on it
	newOwner func() string
}

// heldLock is a lock this process holds: its owner token and the stop of
// its refresher.
type heldLock struct {
	owner string
	stop  context.CancelFunc
	done  chan struct{}
}

var _ certmagic.Storage = (*DBStorage)(nil)

// NewDBStorage returns the storage over db.
func NewDBStorage(db DB) *DBStorage {
	return &DBStorage{db: db, ttl: LockTTL, poll: lockPoll, held: make(map[string]heldLock), newOwner: randomOwner}
}

// randomOwner names one hold of a lock, unique across nodes.
func randomOwner() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Store implements certmagic.Storage.
func (s *DBStorage) Store(ctx context.Context, key string, value []byte) error {
	return s.db.PutACME(ctx, key, value)
}

// Load implements certmagic.Storage; a missing key is fs.ErrNotExist.
func (s *DBStorage) Load(ctx context.Context, key string) ([]byte, error) {
	v, _, err := s.db.GetACME(ctx, key)
	return v, err
}

// Delete implements certmagic.Storage: key and everything under it.
func (s *DBStorage) Delete(ctx context.Context, key string) error {
	return s.db.DeleteACME(ctx, key)
}

// Exists implements certmagic.Storage: key is a value or a directory.
func (s *DBStorage) Exists(ctx context.Context, key string) bool {
	_, err := s.Stat(ctx, key)
	return err == nil
}

// Stat implements certmagic.Storage.
func (s *DBStorage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	size, mod, found, err := s.db.StatACME(ctx, key)
	if err != nil {
		return certmagic.KeyInfo{}, err
	}
	if found {
		return certmagic.KeyInfo{Key: key, Modified: mod, Size: size, IsTerminal: true}, nil
	}
	keys, err := s.db.ACMEKeys(ctx, key)
	if err != nil {
		return certmagic.KeyInfo{}, err
	}
	if len(keys) == 0 {
		return certmagic.KeyInfo{}, fmt.Errorf("stat acme key %q: %w", key, fs.ErrNotExist)
	}
	return certmagic.KeyInfo{Key: key, IsTerminal: false}, nil
}

// List implements certmagic.Storage.
func (s *DBStorage) List(ctx context.Context, prefix string, recursive bool) ([]string, error) {
	prefix = strings.TrimSuffix(prefix, "/")
	keys, err := s.db.ACMEKeys(ctx, prefix)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("list acme keys under %q: %w", prefix, fs.ErrNotExist)
	}
	return listKeys(prefix, keys, recursive), nil
}

// listKeys returns, of keys (all under prefix + "/"), what a directory
// listing of prefix shows: its children, values and directories, or with
// recursive every value and directory below it, in byte order.
func listKeys(prefix string, keys []string, recursive bool) []string {
	seen := map[string]bool{}
	for _, k := range keys {
		rest := k
		if prefix != "" {
			rest = strings.TrimPrefix(k, prefix+"/")
		}
		parts := strings.Split(rest, "/")
		n := len(parts)
		if !recursive {
			n = 1
		}
		for i := 1; i <= n; i++ {
			seen[path.Join(prefix, strings.Join(parts[:i], "/"))] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Lock implements certmagic.Locker: it waits until the lock is free (or
// its holder's time ran out), then keeps it fresh until Unlock.
func (s *DBStorage) Lock(ctx context.Context, name string) error {
	owner := s.newOwner()
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		ok, err := s.db.TryLockACME(ctx, name, owner, s.ttl)
		if err != nil {
			return err
		}
		if ok {
			s.hold(name, owner)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lock acme %q: %w", name, ctx.Err())
		case <-t.C:
		}
	}
}

// hold records owner's lock name and refreshes it every ttl/3 until
// Unlock.
func (s *DBStorage) hold(name, owner string) {
	ctx, stop := context.WithCancel(context.Background())
	h := heldLock{owner: owner, stop: stop, done: make(chan struct{})}
	s.mu.Lock()
	s.held[name] = h
	s.mu.Unlock()
	go func() {
		defer close(h.done)
		t := time.NewTicker(s.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// An error is retried at the next tick; a lost lock
				// (false) is not retaken: its new holder has it.
				if ok, err := s.db.RefreshLockACME(ctx, name, owner, s.ttl); err == nil && !ok {
					return
				}
			}
		}
	}()
}

// Unlock implements certmagic.Locker.
func (s *DBStorage) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h, ok := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("unlock acme %q: not held", name)
	}
	h.stop()
	<-h.done
	return s.db.UnlockACME(ctx, name, h.owner)
}
