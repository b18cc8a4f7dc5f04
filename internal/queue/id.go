package queue

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// NewID returns a new queue id, the id a message is stored and traced
// under and the 250 reply names: the milliseconds since the epoch of now
// in 11 hex digits, so ids sort by time, then 48 random bits in hex.
func NewID(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%011x%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}
