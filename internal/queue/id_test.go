package queue

import (
	"regexp"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	at := time.UnixMilli(1_700_000_000_123)
	a, b := NewID(at), NewID(at.Add(time.Millisecond))
	if !regexp.MustCompile(`^[0-9a-f]{23}$`).MatchString(a) || a[:11] != "18bcfe5687b" {
		t.Fatalf("NewID = %q, want 11 hex digits of the milliseconds then 12 random ones", a)
	}
	if a >= b || NewID(at) == a {
		t.Fatalf("ids %q, %q: want time-ordered and distinct", a, b)
	}
}
