// Package testkit owns what end-to-end tests need to drive the real server:
// a daemon on 127.0.0.1 ports with a temporary data dir and its self-signed
// certificate, a raw SMTP dialogue that asserts reply and enhanced codes,
// and log capture that is printed when a test fails. Test code only.
package testkit

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"mailroom/internal/admin"
	"mailroom/internal/blob"
	"mailroom/internal/config"
	"mailroom/internal/daemon"
	"mailroom/internal/store"
)

// Server is a running daemon for one test.
type Server struct {
	TB     testing.TB
	Config config.Config
	Daemon *daemon.Daemon
	// Store is a second handle on the database, as the CLI would open it.
	Store store.Store
	// Blobs reads the message bodies the daemon stores, as the CLI would.
	Blobs blob.Store
	Admin *admin.Service
	log   *syncBuffer
	// daemonOpt adjusts the daemon's Options at every start (StartWith).
	daemonOpt func(*daemon.Options)
}

// Option changes the configuration before the daemon starts.
type Option func(*config.Config)

// Start runs a daemon with every listener on 127.0.0.1:0. setup, if not
// nil, runs against the store before the daemon starts (add domains and
// mailboxes there). The daemon stops when the test ends; its log is
// printed if the test failed.
func Start(tb testing.TB, setup func(a *admin.Service), opts ...Option) *Server {
	tb.Helper()
	return StartWith(tb, setup, nil, opts...)
}

// StartWith is Start with daemonOpt applied to the daemon's Options at
// every start and restart (e.g. to set WrapStore).
func StartWith(tb testing.TB, setup func(a *admin.Service), daemonOpt func(*daemon.Options), opts ...Option) *Server {
	tb.Helper()
	dir := tb.TempDir()
	cfg := config.Default()
	cfg.SetDir(dir)
	cfg.Hostname = "mail.example.test"
	cfg.Submission.Listen = "127.0.0.1:0"
	cfg.Submission.ListenTLS = "127.0.0.1:0"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.IMAP.Listen = "127.0.0.1:0"
	cfg.IMAP.ListenTLS = "127.0.0.1:0"
	cfg.Submission.ShutdownGrace = config.Duration(2 * time.Second)
	// No test reaches the Internet: unless an option points delivery at a
	// Remote, every DNS question fails (SERVFAIL) and remote recipients
	// wait in the queue.
	offline := StartDNS(tb)
	offline.SetUnknown(dns.RcodeServerFailure)
	cfg.Delivery.Resolver = offline.Addr
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	if err := seedDatabase(cfg); err != nil {
		tb.Fatal(err)
	}
	st, err := admin.OpenStore(ctx, cfg)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	blobs, files, err := admin.OpenBodies(cfg, st)
	if err != nil {
		tb.Fatalf("open bodies: %v", err)
	}
	s := &Server{TB: tb, Config: cfg, Store: st, Blobs: blobs, Admin: admin.New(st), log: &syncBuffer{}, daemonOpt: daemonOpt}
	s.Admin.Blobs = blobs
	s.Admin.OAuthIssuers = admin.OAuthIssuers(cfg.OAuth)
	// Cheap hashes keep tests fast; production cost is tested in directory.
	s.Admin.Params.Time, s.Admin.Params.Memory = 1, 1024
	if setup != nil {
		setup(s.Admin)
	}
	s.start()
	tb.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.Daemon.Shutdown(sctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if files != nil {
			files.Close()
		}
		st.Close()
		if tb.Failed() {
			tb.Logf("server log:\n%s", s.log.String())
		}
	})
	return s
}

func (s *Server) start() {
	s.TB.Helper()
	logger := slog.New(slog.NewTextHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o := daemon.Options{Config: s.Config, Log: logger, HashParams: s.Admin.Params}
	if s.daemonOpt != nil {
		s.daemonOpt(&o)
	}
	d, err := daemon.Start(context.Background(), o)
	if err != nil {
		s.TB.Fatalf("start daemon: %v", err)
	}
	s.Daemon = d
}

// Restart shuts the daemon down cleanly and starts a new one on the same
// data directory and configuration (listeners get new ports).
func (s *Server) Restart() {
	s.TB.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Daemon.Shutdown(ctx); err != nil {
		s.TB.Fatalf("shutdown: %v", err)
	}
	s.start()
}

// SyncDirectory waits until the daemon has loaded every directory change
// written so far (through s.Admin or another store handle).
func (s *Server) SyncDirectory() {
	s.TB.Helper()
	want, err := s.Store.DirectoryVersion(context.Background())
	if err != nil {
		s.TB.Fatalf("directory version: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Daemon.DirectoryVersion() < want {
		if time.Now().After(deadline) {
			s.TB.Fatalf("daemon did not load directory version %d within 10s", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Log returns what the daemon logged so far.
func (s *Server) Log() string { return s.log.String() }

// Addr is the address of a listener (daemon.ListenSubmission, ...).
func (s *Server) Addr(name string) string { return s.Daemon.Addr(name).String() }

// Body returns the stored message body named key.
func (s *Server) Body(key string) ([]byte, error) {
	r, err := s.Blobs.Open(key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// BodyCount returns how many message bodies are stored, in the database
// and as files.
func (s *Server) BodyCount() int {
	s.TB.Helper()
	n := 0
	err := s.Blobs.Walk("", func(string, time.Time) error { n++; return nil })
	if err != nil {
		s.TB.Fatalf("count bodies: %v", err)
	}
	return n
}

// DataDir is the daemon's data directory.
func (s *Server) DataDir() string { return s.Config.DataPath() }

// TLSConfig trusts the daemon's self-signed certificate.
func (s *Server) TLSConfig() *tls.Config {
	s.TB.Helper()
	pem, err := os.ReadFile(filepath.Join(s.DataDir(), "tls", "cert.pem"))
	if err != nil {
		s.TB.Fatalf("read server certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, ServerName: "localhost"}
}

// MustAdd runs an admin operation's error check in setup code.
func MustAdd(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("setup: %v", err)
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
