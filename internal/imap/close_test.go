package imap

import (
	"errors"
	"net"
	"testing"
)

// TestServer_CloseRightAfterServe: a daemon shut down just after it
// started closes its IMAP server while Serve is starting; under the race
// detector that raced inside imapserver (its Serve adds to the WaitGroup
// its Close waits on). Every Serve returns, and one called after Close
// returns net.ErrClosed.
func TestServer_CloseRightAfterServe(t *testing.T) {
	var s *Server
	for range 1000 { // the race needed hundreds of tries to show
		s = New(Options{})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Serve(l) }()
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		<-done
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(l); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve after Close: %v, want net.ErrClosed", err)
	}
}
