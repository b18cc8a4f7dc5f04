package daemon

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"

	"mailroom/internal/imap"
	"mailroom/internal/limits"
	"mailroom/internal/store"
)

// startIMAP serves IMAP on [imap] listen (STARTTLS) and listen_tls
// (implicit TLS) when either is set: the same certificates, PROXY
// listener (submission.proxy_from) and login guard as submission, and the
// store st submission writes through (so WrapStore's failures reach
// APPEND too).
func (d *Daemon) startIMAP(tlsConfig *tls.Config, guard *limits.LoginGuard, st store.Store, fallback bool) error {
	c := d.cfg.IMAP
	if c.Listen == "" && c.ListenTLS == "" {
		return nil
	}
	d.imap = imap.New(imap.Options{
		Directory: d.dir, Store: st, Blobs: d.blobs, Logins: guard, Trace: d.trace, Log: d.log,
		Conns:     &limits.Connections{PerAddress: c.MaxConnectionsPerAddress},
		TLSConfig: tlsConfig, HashWait: d.cfg.Submission.HashWait.Std(), MaxMessageBytes: d.cfg.Submission.MaxMessageBytes,
		MaxIdle: c.MaxIdle, IdleKeepalive: c.IdleKeepalive.Std(), LoginTimeout: c.LoginTimeout.Std(), PreAuthBytes: c.PreAuthBytes,
	})
	for _, l := range []struct {
		name, addr string
		implicit   bool
	}{{ListenIMAP, c.Listen, false}, {ListenIMAPS, c.ListenTLS, true}} {
		if l.addr == "" {
			continue
		}
		ln, err := listen(l.addr, fallback, d.log)
		if err != nil {
			return fmt.Errorf("%s listen %s: %w", l.name, l.addr, err)
		}
		d.addrs[l.name] = ln.Addr()
		ln = proxied(ln, proxyOptions{Trusted: d.cfg.Submission.ProxyPrefixes(), Key: "submission.proxy_from", Log: d.log})
		d.ls = append(d.ls, ln)
		if l.implicit {
			ln = d.imap.ListenTLS(ln, tlsConfig)
		} else {
			ln = d.imap.Listen(ln)
		}
		d.serving.Add(1)
		go func() {
			defer d.serving.Done()
			if err := d.imap.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
				d.log.Error("imap serve", "listener", l.name, "err", err)
			}
		}()
	}
	return nil
}
