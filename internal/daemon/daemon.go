// Package daemon is the composition root of `mailroom serve` and
// `mailroom quickstart`: it builds every component from the Config, starts
// the listeners and workers, and shuts them down in order.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/blob"
	"mailroom/internal/config"
	"mailroom/internal/delivery"
	"mailroom/internal/directory"
	"mailroom/internal/imap"
	"mailroom/internal/limits"
	"mailroom/internal/retention"
	"mailroom/internal/store"
	"mailroom/internal/submission"
	"mailroom/internal/trace"
	"mailroom/internal/web"
)

// Options configure Start.
type Options struct {
	Config config.Config
	Log    *slog.Logger
	// PortFallback lets an unprivileged user run: when a configured port
	// below 1024 cannot be bound for lack of permission, 2000 is added to it
	// (587 → 2587, 465 → 2465) and the log says so.
	PortFallback bool
	// WrapStore, when set, wraps the store the submission backend writes
	// accepted messages through (the directory, the retention sweeper and
	// the web handlers keep the plain store). It is the seam tests use to
	// inject storage failures (a full disk, a failing commit); production
	// leaves it nil.
	WrapStore func(store.Store) store.Store
	// ACMECheckInterval is how often ACME certificates are checked for
	// renewal; 0 is ten minutes. Tests shorten it to see a renewal.
	ACMECheckInterval time.Duration
	// HashParams are the argon2id parameters of the passwords this
	// daemon's store holds (tests hash cheaply); the directory's dummy
	// hash for unknown users matches them. Default directory.DefaultParams.
	HashParams directory.Params
}

// Daemon is a running server.
type Daemon struct {
	cfg     config.Config
	log     *slog.Logger
	st      store.Store
	be      *submission.Backend
	dir     *directory.Directory
	blobs   blob.Store
	files   *blob.FS // the body files, when bodies are not all in the database
	dlv     *delivery.Deliverer
	trace   *trace.Writer
	certs   *certificates
	smtp    []*smtp.Server
	imap    *imap.Server // nil when no IMAP listener is on
	ls      []net.Listener
	http    *http.Server
	addrs   map[string]net.Addr
	cancel  context.CancelFunc
	workers sync.WaitGroup
	serving sync.WaitGroup
	stop    sync.Once
	stopErr error
}

// Listener names, for Addr.
const (
	ListenSubmission = "submission"
	ListenTLS        = "submission_tls"
	ListenRelay      = "submission_relay"
	ListenHTTP       = "http"
	ListenIMAP       = "imap"
	ListenIMAPS      = "imap_tls"
)

// Start builds the server and starts listening. It returns once every
// listener is bound; Shutdown stops it.
func Start(ctx context.Context, o Options) (_ *Daemon, err error) {
	cfg := o.Config
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dataDir := cfg.DataPath()
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data_dir: %w", err)
	}
	st, err := admin.OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, log: log, st: st, addrs: make(map[string]net.Addr), trace: trace.NewWriter(st, log)}
	defer func() {
		if err != nil { // undo what was started: listeners, workers, store
			for _, l := range d.ls {
				_ = l.Close()
			}
			if d.http != nil {
				_ = d.http.Close()
			}
			d.serving.Wait()
			_ = d.closeAll()
		}
	}()
	blobs, files, err := admin.OpenBodies(cfg, st)
	if err != nil {
		return nil, err
	}
	d.blobs, d.files = blobs, files
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel = cancel
	if d.certs, err = startCertificates(wctx, Options{Config: cfg, Log: log, ACMECheckInterval: o.ACMECheckInterval}, st); err != nil {
		return nil, err
	}
	tlsConfig := &tls.Config{GetCertificate: d.certs.GetCertificate, MinVersion: tls.VersionTLS12}
	dir, err := directory.New(ctx, st, directory.Options{Log: log, PlusSeparator: cfg.Addresses.PlusSeparator, Postmaster: cfg.Delivery.Postmaster,
		AuthCacheTTL: cfg.Submission.AuthCacheTTL.Std(), MaxHashes: cfg.Submission.MaxConcurrentHashes, HashParams: o.HashParams})
	if err != nil {
		return nil, err
	}
	d.dir = dir
	d.workers.Add(1)
	go func() { defer d.workers.Done(); dir.Run(wctx) }()

	d.workers.Go(func() { releaseIdleMemory(wctx, log, memoryCheckEvery) })

	sw := &retention.Sweeper{Store: st, Blobs: blobs, Log: log, TraceRetention: cfg.Trace.Retention.Std()}
	d.workers.Add(1)
	go func() { defer d.workers.Done(); sw.Run(wctx, cfg.Retention.SweepInterval.Std()) }()
	if d.uncleanStop() {
		started := time.Now()
		before := started
		if cfg.Store.Driver == config.DriverPostgres {
			// Other nodes may share data_dir (README "Running a
			// cluster"): a body written shortly before this start may be
			// theirs, its rows not committed yet.
			before = started.Add(-sharedOrphanMargin)
		}
		d.workers.Add(1)
		go func() {
			defer d.workers.Done()
			n, err := sw.SweepOrphans(wctx, started.Add(-time.Hour), before)
			if err != nil && wctx.Err() == nil {
				log.Error("orphan body sweep after an unclean stop", "err", err)
				return
			}
			log.Info("orphan body sweep after an unclean stop", "removed", n)
		}()
	}

	limiter, err := d.startLimits(ctx, wctx, dir)
	if err != nil {
		return nil, err
	}
	lc := cfg.Limits
	guard := &limits.LoginGuard{PerAddress: lc.LoginFailuresPerAddress, PerMailbox: lc.LoginFailuresPerMailbox,
		Window: lc.LoginWindow.Std(), Cooloff: lc.LoginCooloff.Std(), InFlightPerAddress: cfg.Submission.MaxAuthPerAddress}
	d.workers.Add(1)
	go func() {
		defer d.workers.Done()
		d.publishUsage(wctx, limiter, guard, filepath.Join(dataDir, admin.UsageFile))
	}()

	q, err := d.startDelivery(wctx, dir, blobs)
	if err != nil {
		return nil, err
	}

	var subStore store.Store = wakingStore{st, q.Wake}
	if o.WrapStore != nil {
		subStore = o.WrapStore(subStore)
	}
	verifier, err := newOAuth(cfg.OAuth, log)
	if err != nil {
		return nil, err
	}
	d.be = submission.NewBackend(submission.Options{
		OAuth: verifier, OAuthClients: dir.OAuthClients,
		Hostname: cfg.Hostname, MaxMessageBytes: cfg.Submission.MaxMessageBytes, MaxHeaderBytes: cfg.Submission.MaxHeaderBytes,
		CommandTimeout: cfg.Submission.CommandTimeout.Std(), DataTimeout: cfg.Submission.DataTimeout.Std(),
		Directory: dir, Store: subStore, Blobs: blobs, Log: log,
		Limits: limiter, ConcurrencyWait: lc.ConcurrencyWait.Std(), Logins: guard, DailyReject: lc.DailyRecipientsExceeded == "reject", Trace: d.trace,
		HashWait: cfg.Submission.HashWait.Std(),
		Conns:    &limits.Connections{PerAddress: cfg.Submission.MaxConnectionsPerAddress, PerMinute: cfg.Submission.ConnectionRatePerAddress},
		ServerLimits: store.Limits{Concurrent: lc.Concurrent, MessagesPerMinute: lc.MessagesPerMinute,
			RecipientsPerMessage: lc.RecipientsPerMessage, RecipientsPerDay: lc.RecipientsPerDay},
	})
	// Per client: legacy TLS for a connector's network, client
	// certificates for connectors, and a trace of failed handshakes.
	imapTLS := tlsConfig // IMAP has no connectors: no client certificates, no legacy TLS
	tlsConfig = d.be.TLSConfig(tlsConfig)
	if err := d.listenSMTP(ListenSubmission, cfg.Submission.Listen, nil, tlsConfig, o.PortFallback); err != nil {
		return nil, err
	}
	if cfg.Submission.ListenTLS != "" {
		if err := d.listenSMTP(ListenTLS, cfg.Submission.ListenTLS, tlsConfig, tlsConfig, o.PortFallback); err != nil {
			return nil, err
		}
	}
	if cfg.Submission.ListenRelay != "" {
		// Port 25 for devices: the same sessions as on 587 (STARTTLS
		// offered, AUTH under TLS, connectors without it), so a device
		// that only knows port 25 needs no other setting.
		if err := d.listenSMTP(ListenRelay, cfg.Submission.ListenRelay, nil, tlsConfig, o.PortFallback); err != nil {
			return nil, err
		}
	}
	if err := d.startIMAP(imapTLS, guard, subStore, o.PortFallback); err != nil {
		return nil, err
	}
	if cfg.HTTP.Listen != "" {
		l, err := listen(cfg.HTTP.Listen, false, log)
		if err != nil {
			return nil, fmt.Errorf("http.listen: %w", err)
		}
		d.addrs[ListenHTTP] = l.Addr()
		d.http = newHTTPServer(web.New(web.Options{Store: st, Admin: d.adminService(), Metrics: d.metrics(), Pprof: cfg.HTTP.Pprof, Log: log}), log)
		d.serving.Add(1)
		go func() {
			defer d.serving.Done()
			if err := d.http.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("http serve", "err", err)
			}
		}()
	}
	log.Info("mailroom started", "hostname", cfg.Hostname, "data_dir", dataDir,
		"submission", d.Addr(ListenSubmission), "submission_tls", d.Addr(ListenTLS), "submission_relay", d.Addr(ListenRelay), "http", d.Addr(ListenHTTP),
		"imap", d.Addr(ListenIMAP), "imap_tls", d.Addr(ListenIMAPS))
	return d, nil
}

// listenSMTP binds addr and serves SMTP on it; implicit is the TLS config
// of an implicit-TLS listener (nil for STARTTLS). Layers, from the socket
// up: PROXY protocol (proxy.go), connection tracking, TLS.
func (d *Daemon) listenSMTP(name, addr string, implicit, starttls *tls.Config, fallback bool) error {
	l, err := listen(addr, fallback, d.log)
	if err != nil {
		return fmt.Errorf("%s listen %s: %w", name, addr, err)
	}
	d.addrs[name] = l.Addr()
	l = proxied(l, proxyOptions{Trusted: d.cfg.Submission.ProxyPrefixes(), Key: "submission.proxy_from", Log: d.log})
	d.ls = append(d.ls, l)
	if implicit != nil {
		l = d.be.ListenTLS(l, implicit)
	} else {
		l = d.be.Listen(l)
	}
	srv := d.be.NewServer(starttls)
	d.smtp = append(d.smtp, srv)
	d.serving.Add(1)
	go func() {
		defer d.serving.Done()
		if err := srv.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			d.log.Error("smtp serve", "listener", name, "err", err)
		}
	}()
	return nil
}

// listen binds addr, falling back to port+2000 when allowed and the port
// is privileged.
func listen(addr string, fallback bool, log *slog.Logger) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err == nil || !fallback || !errors.Is(err, syscall.EACCES) {
		return l, err
	}
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscanf(port, "%d", &p)
	alt := net.JoinHostPort(host, fmt.Sprint(p+2000))
	log.Warn("privileged port not allowed for this user; using a fallback", "wanted", addr, "using", alt)
	return net.Listen("tcp", alt)
}

// Durability counts the fsyncs behind accepted messages: blob files, blob
// directory syncs, and store commits of acceptances with the acceptances
// they held. Their sum over Accepted is the fsyncs per message that group
// commit brings down.
type Durability struct {
	FileSyncs, DirSyncs, StoreCommits, Accepted int64
}

// Durability returns the counters since Start.
func (d *Daemon) Durability() Durability {
	var out Durability
	if d.files != nil {
		out.FileSyncs, out.DirSyncs = d.files.Syncs()
	}
	if s, ok := d.st.(interface{ AcceptStats() (int64, int64) }); ok {
		out.StoreCommits, out.Accepted = s.AcceptStats()
	}
	return out
}

// DirectoryVersion is the store change counter the server's directory
// snapshot was read at.
func (d *Daemon) DirectoryVersion() int64 { return d.dir.Snapshot().Version }

// PasswordHashes returns how many password hashes logins have computed.
func (d *Daemon) PasswordHashes() int64 { return d.dir.Hashes() }

// Addr returns the bound address of a listener (ListenSubmission, ListenTLS,
// ListenRelay, ListenHTTP, ListenIMAP, ListenIMAPS), or nil when it is off.
func (d *Daemon) Addr(name string) net.Addr { return d.addrs[name] }

// Shutdown stops accepting connections, lets transactions in flight finish
// until ctx ends, then closes every connection, the workers and the store.
// Later calls return the first call's result.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.stop.Do(func() { d.stopErr = d.shutdown(ctx) })
	return d.stopErr
}

func (d *Daemon) shutdown(ctx context.Context) error {
	d.log.Info("shutting down")
	for _, l := range d.ls {
		_ = l.Close()
	}
	if d.http != nil {
		_ = d.http.Shutdown(ctx)
	}
	if d.imap != nil {
		// IMAP sessions hold no transaction: they end at once.
		_ = d.imap.Close()
	}
	d.be.Drain(ctx)
	// Past the grace period: close what is left. A transaction cut here
	// never got its 250, so the client still owns the message.
	d.be.CloseAll()
	wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range d.smtp {
		_ = s.Shutdown(wctx) // waits for the connection handlers to return
	}
	d.serving.Wait()
	return d.closeAll()
}

// sharedOrphanMargin is how old a body file must be before the orphan
// sweep of a node sharing data_dir with others may remove it: far longer
// than any acceptance takes from its body's fsync to its commit.
const sharedOrphanMargin = 10 * time.Minute

// cleanStopFile marks, inside data_dir, that the last stop was clean.
const cleanStopFile = "run/clean-stop"

// uncleanStop reports whether the previous run on this data directory
// ended without a clean shutdown (a crash or SIGKILL), and clears the mark
// for this run. A first start (no run folder yet and no body files) is not
// unclean.
func (d *Daemon) uncleanStop() bool {
	dir := d.cfg.DataPath()
	run := filepath.Join(dir, filepath.Dir(cleanStopFile))
	_, err := os.Stat(run)
	ranBefore := err == nil
	_ = os.MkdirAll(run, 0o750)
	err = os.Remove(filepath.Join(dir, cleanStopFile))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return false
	}
	if ranBefore {
		return true
	}
	ents, err := os.ReadDir(filepath.Join(dir, "blobs"))
	return err == nil && len(ents) > 0
}

func (d *Daemon) closeAll() error {
	if d.cancel != nil {
		d.cancel()
	}
	d.workers.Wait()
	if d.certs != nil {
		d.certs.stop()
	}
	if d.dlv != nil {
		d.dlv.Close()
	}
	d.trace.Close() // after the sessions and workers that record into it
	if d.files != nil {
		d.files.Close()
	}
	if err := d.st.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	run := filepath.Join(d.cfg.DataPath(), filepath.Dir(cleanStopFile))
	if err := os.MkdirAll(run, 0o750); err == nil {
		_ = os.WriteFile(filepath.Join(d.cfg.DataPath(), cleanStopFile), nil, 0o640)
	}
	d.log.Info("stopped")
	return nil
}

// Serve runs the daemon until ctx ends (SIGTERM), then shuts down within
// submission.shutdown_grace.
func Serve(ctx context.Context, o Options) error {
	d, err := Start(ctx, o)
	if err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), o.Config.Submission.ShutdownGrace.Std())
	defer cancel()
	return d.Shutdown(sctx)
}
