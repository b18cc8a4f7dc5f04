package directory

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// authCache remembers verified credentials for a short time, as Dovecot's
// auth cache does, so a device that reconnects for every message pays the
// argon2id hash once per TTL instead of once per login. Only successes are
// cached (failures must keep costing, and keep being counted). An entry is
// valid only for the directory version it was made at: any directory
// change (password, app password revoked, SMTP AUTH off, mailbox removed)
// empties the cache at once.
//
// Keys are HMAC-SHA256 of user and password under a per-process random
// key, so the cache holds no password and nothing an offline guess can be
// checked against without that key.
type authCache struct {
	ttl time.Duration
	max int
	key [32]byte

	mu       sync.Mutex
	version  int64
	entries  map[[32]byte]cached
	inflight map[[32]byte]*call
	hits     int64
	misses   int64
}

// call is one verification in progress that others with the same
// credentials wait for.
type call struct {
	done chan struct{}
	cred Credential
	ok   bool
	err  error
}

type cached struct {
	mailbox string
	appID   int64 // 0 for the mailbox password
	expires time.Time
}

func newAuthCache(ttl time.Duration, max int) *authCache {
	c := &authCache{ttl: ttl, max: max, entries: make(map[[32]byte]cached), inflight: make(map[[32]byte]*call)}
	_, _ = rand.Read(c.key[:])
	return c
}

func (c *authCache) keyOf(user, password string) [32]byte {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(user))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var k [32]byte
	m.Sum(k[:0])
	return k
}

// get returns the cached credential of user/password at directory version.
func (c *authCache) get(user, password string, version int64, now time.Time) (cached, bool) {
	if c == nil || c.ttl <= 0 {
		return cached{}, false
	}
	k := c.keyOf(user, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version {
		clear(c.entries)
		c.version = version
	}
	e, ok := c.entries[k]
	if !ok || !now.Before(e.expires) {
		c.misses++
		return cached{}, false
	}
	c.hits++
	return e, true
}

// put remembers a verified credential made at directory version.
func (c *authCache) put(user, password string, version int64, now time.Time, e cached) {
	if c == nil || c.ttl <= 0 {
		return
	}
	k := c.keyOf(user, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	if version != c.version {
		clear(c.entries)
		c.version = version
	}
	if len(c.entries) >= c.max {
		clear(c.entries) // crude but bounded; a full cache only costs hashes
	}
	e.expires = now.Add(c.ttl)
	c.entries[k] = e
}

// once runs verify for user/password at version, or, when the same
// verification is already running, waits for it and shares its result.
// With the cache off it just runs verify.
func (c *authCache) once(user, password string, version int64, verify func() (Credential, bool, error)) (Credential, bool, error) {
	if c == nil || c.ttl <= 0 {
		return verify()
	}
	k := c.keyOf(user, password)
	binary.BigEndian.PutUint64(k[:8], binary.BigEndian.Uint64(k[:8])^uint64(version)) // a new version never shares
	c.mu.Lock()
	if cl, ok := c.inflight[k]; ok {
		c.mu.Unlock()
		<-cl.done
		return cl.cred, cl.ok, cl.err
	}
	cl := &call{done: make(chan struct{})}
	c.inflight[k] = cl
	c.mu.Unlock()
	cl.cred, cl.ok, cl.err = verify()
	c.mu.Lock()
	delete(c.inflight, k)
	c.mu.Unlock()
	close(cl.done)
	return cl.cred, cl.ok, cl.err
}
