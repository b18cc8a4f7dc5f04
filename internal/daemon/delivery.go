package daemon

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/blob"
	"mailroom/internal/config"
	"mailroom/internal/delivery"
	"mailroom/internal/directory"
	"mailroom/internal/queue"
	"mailroom/internal/resolver"
	"mailroom/internal/store"
)

// startDelivery builds the deliverer and the queue from [delivery] and
// starts the queue's workers; they stop when ctx ends.
func (d *Daemon) startDelivery(ctx context.Context, dir *directory.Directory, blobs blob.Store) (*queue.Queue, error) {
	c := d.cfg.Delivery
	res, err := resolver.New(c.Resolver)
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	var roots *x509.CertPool
	if c.TLSCAFile != "" {
		if roots, err = x509.SystemCertPool(); err != nil {
			roots = x509.NewCertPool()
		}
		pem, err := os.ReadFile(d.cfg.Path(c.TLSCAFile))
		if err != nil {
			return nil, fmt.Errorf("delivery.tls_ca_file: %w", err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("delivery.tls_ca_file %s: no PEM certificate in it", c.TLSCAFile)
		}
	}
	smarthostTLS := map[string]string{
		config.TLSStartTLS: delivery.TLSRequired, config.TLSImplicit: delivery.TLSImplicit, config.TLSNone: delivery.TLSNone,
	}[c.SmarthostTLS]
	postmaster := c.Postmaster
	if pm, err := address.Normalize(postmaster); err == nil { // config checked its shape
		postmaster = pm
	}
	routes, err := deliveryRoutes(&d.cfg)
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	d.dlv = delivery.New(delivery.Options{
		Hostname: d.cfg.Hostname, Directory: dir, Blobs: blobs, Keys: d.st, Resolver: res, Log: d.log,
		Smarthost: c.Smarthost, SmarthostTLS: smarthostTLS,
		SmarthostUsername: c.SmarthostUsername, SmarthostPassword: c.SmarthostPassword,
		Routes: routes, Postmaster: postmaster,
		MXPort: c.MXPort, RequireTLS: c.RequireTLS, RootCAs: roots,
		DestinationConnections: c.DestinationConnections, MaxHeaderBytes: int(d.cfg.Submission.MaxHeaderBytes),
	})
	sched := make([]time.Duration, len(c.RetrySchedule))
	for i, w := range c.RetrySchedule {
		sched[i] = w.Std()
	}
	q := queue.New(queue.Options{
		Store: d.st, Blobs: blobs, Deliverer: d.dlv, Log: d.log, Hostname: d.cfg.Hostname,
		Schedule: sched, MaxAge: c.MaxAge.Std(), DelayNotice: c.DelayNotice.Std(),
		Workers: c.Workers, AttemptTimeout: c.AttemptTimeout.Std(), Poll: c.QueuePoll.Std(), Trace: d.trace,
		MaxHeaderBytes: int(d.cfg.Submission.MaxHeaderBytes), Postmaster: postmaster,
	})
	d.workers.Add(1)
	go func() { defer d.workers.Done(); q.Run(ctx) }()
	return q, nil
}

// wakingStore tells the queue about every accepted message that has
// recipients left to deliver, so delivery starts at once instead of at the
// next poll. Messages delivered wholly at acceptance (local recipients)
// wake nobody: a claim is a write transaction, and it would compete with
// the acceptances for the database lock.
type wakingStore struct {
	store.Store
	wake func()
}

func (w wakingStore) Accept(ctx context.Context, a store.Acceptance) error {
	err := w.Store.Accept(ctx, a)
	if err == nil && len(a.Delivered) < len(a.Recipients) {
		w.wake()
	}
	return err
}
