package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/daemon"
	"mailroom/internal/store"
)

const quickstartUsage = `mailroom quickstart [--config FILE] [--data-dir DIR] [--domain DOMAIN] [--mailbox ADDRESS]
                    [--relay-for DOMAIN [--upstream HOST:PORT]] [--reset-password]
A second run keeps the demo mailbox's password (apps that use it go on
working); --reset-password makes and prints a new one.`

// runQuickstart makes a data dir with a demo domain and mailbox and the
// first console administrator, starts serving, and prints the console
// address, the client settings and how each client trusts the certificate.
// A second run keeps the passwords unless --reset-password.
func runQuickstart(ctx context.Context, args []string, s ioSet) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	dataDir := fs.String("data-dir", "", "data directory (default: data_dir of the configuration, \"data\")")
	domain := fs.String("domain", "example.test", "demo domain to create")
	mailbox := fs.String("mailbox", "", "demo mailbox to create (default: demo@DOMAIN)")
	relayFor := fs.String("relay-for", "", "gateway mode: DOMAIN becomes a relay domain (replaces --domain) whose mail lives upstream")
	upstream := fs.String("upstream", "", "with --relay-for: HOST:PORT the domain's mail goes to (default: the domain's MX hosts)")
	resetPassword := fs.Bool("reset-password", false, "give the existing demo mailbox a new password (default: keep it)")
	pos, err := parse(fs, args)
	if err != nil {
		return showHelp(err, s.out, quickstartUsage)
	}
	if len(pos) != 0 || (*upstream != "" && *relayFor == "") {
		return usagef("usage: %s", quickstartUsage)
	}
	role := store.DomainHosted
	if *relayFor != "" {
		*domain, role = *relayFor, store.DomainRelay
	}
	cfg, err := findConfig(s, *cfgPath, forQuickstart)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if cfg.IMAP.Listen == "" && cfg.IMAP.ListenTLS == "" { // IMAP on, unless the config file chose its ports
		cfg.IMAP.Listen, cfg.IMAP.ListenTLS = ":143", ":993"
	}
	if *mailbox == "" {
		*mailbox = "demo@" + *domain
	}
	route, err := relayRoute(&cfg, *domain, *upstream)
	if err != nil {
		return err
	}
	st, err := admin.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	a := admin.New(st)
	_, err = a.AddDomainWithRole(ctx, *domain, role)
	if errors.Is(err, admin.ErrExists) && role == store.DomainRelay {
		_, err = a.SetDomain(ctx, *domain, admin.DomainChange{Role: &role})
	}
	if err != nil && !errors.Is(err, admin.ErrExists) {
		st.Close()
		return err
	}
	m, gen, err := a.AddMailbox(ctx, admin.NewMailbox{Address: *mailbox, DisplayName: "Demo"})
	kept := false
	if errors.Is(err, admin.ErrExists) {
		// A second run: the password was shown once and apps may use it.
		m, err = a.Mailbox(ctx, *mailbox)
		if err == nil && *resetPassword {
			gen, err = a.SetPassword(ctx, *mailbox, "")
		}
		kept = !*resetPassword
	}
	var console consoleLogin
	if err == nil {
		console, err = firstConsoleUser(ctx, a)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}

	d, err := daemon.Start(ctx, daemon.Options{Config: cfg, Log: newLogger(cfg.Log, s.err), PortFallback: true})
	if err != nil {
		return err
	}
	q := quickstartInfo{user: m.Address, password: gen, kept: kept, hostname: cfg.Hostname, dataDir: cfg.DataPath(),
		console: console, configArg: configArg(*cfgPath)}
	q.cert, q.selfSigned = daemon.CertFile(cfg)
	q.sub, q.tls = listenPort(d, daemon.ListenSubmission), listenPort(d, daemon.ListenTLS)
	q.imap, q.imaps = listenPort(d, daemon.ListenIMAP), listenPort(d, daemon.ListenIMAPS)
	if a := d.Addr(daemon.ListenHTTP); a != nil {
		q.consoleURL = consoleURL(a.String())
	}
	printSettings(s.out, q)
	if role == store.DomainRelay {
		printGateway(s, *domain, route)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Submission.ShutdownGrace.Std())
	defer cancel()
	return d.Shutdown(sctx)
}

// relayRoute adds to cfg, for this run, a route carrying domain to
// upstream (none when upstream is ""; then the domain's MX hosts, the
// upstream's inbound servers, take its mail). A loopback upstream (a local
// test sink) is spoken to in plain text, any other with verified STARTTLS.
func relayRoute(cfg *config.Config, domain, upstream string) (*config.Route, error) {
	if upstream == "" {
		return nil, nil
	}
	r := config.Route{Domains: []string{domain}, Host: upstream, TLS: config.TLSStartTLS, Auth: config.AuthNone}
	if host, _, err := net.SplitHostPort(upstream); err == nil {
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			r.TLS = config.TLSNone
		}
	}
	cfg.Delivery.Routes = append([]config.Route{r}, cfg.Delivery.Routes...)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("--upstream: %w", err)
	}
	return &cfg.Delivery.Routes[0], nil
}

// printGateway says what the relay domain is and how to keep its route.
func printGateway(s ioSet, domain string, r *config.Route) {
	w := s.out
	fmt.Fprintf(w, "Gateway: %s is a relay domain. Its mailboxes send through mailroom; mail to any %s\n", domain, domain)
	fmt.Fprintf(w, "address (a mailbox here or not) goes upstream, never to a local Inbox.\n")
	if r == nil {
		fmt.Fprintf(w, "No --upstream: it goes to %s's MX hosts. To name the upstream, add to mailroom.toml:\n\n", domain)
		fmt.Fprintf(w, "[[delivery.routes]]\ndomains = [%q]\nhost = \"smtp.office365.com:587\"\n\n", domain)
		return
	}
	fmt.Fprintf(w, "This run routes it to %s. To keep that, add to mailroom.toml:\n\n", r.Host)
	fmt.Fprintf(w, "[[delivery.routes]]\ndomains = [%q]\nhost = %q\ntls = %q\n\n", domain, r.Host, r.TLS)
}
