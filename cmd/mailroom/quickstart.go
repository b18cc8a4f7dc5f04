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
                    [--relay-for DOMAIN [--upstream HOST:PORT]]`

// runQuickstart makes a data dir with a demo domain and mailbox (a new
// password each run), starts serving, and prints the client settings.
func runQuickstart(ctx context.Context, args []string, s ioSet) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	dataDir := fs.String("data-dir", "", "data directory (default: data_dir of the configuration, \"data\")")
	domain := fs.String("domain", "example.test", "demo domain to create")
	mailbox := fs.String("mailbox", "", "demo mailbox to create (default: demo@DOMAIN)")
	relayFor := fs.String("relay-for", "", "gateway mode: DOMAIN becomes a relay domain (replaces --domain) whose mail lives upstream")
	upstream := fs.String("upstream", "", "with --relay-for: HOST:PORT the domain's mail goes to (default: the domain's MX hosts)")
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
	if errors.Is(err, admin.ErrExists) {
		// A second run: the old password was shown once; make a new one.
		m, err = a.Mailbox(ctx, *mailbox)
		if err == nil {
			gen, err = a.SetPassword(ctx, *mailbox, "")
		}
	}
	password := gen
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
	printSettings(s, d, m.Address, password, cfg.Hostname, cfg.DataPath())
	if role == store.DomainRelay {
		printGateway(s, *domain, route)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Submission.ShutdownGrace.Std())
	defer cancel()
	return d.Shutdown(sctx)
}

func printSettings(s ioSet, d *daemon.Daemon, user, password, hostname, dataDir string) {
	port := func(name string) string {
		a := d.Addr(name)
		if a == nil {
			return ""
		}
		_, p, _ := net.SplitHostPort(a.String())
		return p
	}
	sub, tls := port(daemon.ListenSubmission), port(daemon.ListenTLS)
	w := s.out
	fmt.Fprintf(w, "\nmailroom is running; data in %s. Stop with Ctrl-C.\n", dataDir)
	if sub != "587" || (tls != "" && tls != "465") {
		fmt.Fprintf(w, "Note: ports 587/465 were not available to this user, so mailroom listens on %s (STARTTLS) and %s (TLS).\n", sub, tls)
	}
	fmt.Fprintf(w, "The certificate is self-signed: clients must be told to trust it or not to verify it.\n\n")
	fmt.Fprintf(w, "# Laravel .env\n")
	fmt.Fprintf(w, "MAIL_MAILER=smtp\nMAIL_HOST=localhost\nMAIL_PORT=%s\nMAIL_USERNAME=%s\nMAIL_PASSWORD=%s\nMAIL_ENCRYPTION=tls\nMAIL_FROM_ADDRESS=%s\n\n", sub, user, password, user)
	fmt.Fprintf(w, "# Any client\n")
	fmt.Fprintf(w, "host:      localhost (or %s)\n", hostname)
	fmt.Fprintf(w, "port:      %s with STARTTLS", sub)
	if tls != "" {
		fmt.Fprintf(w, ", or %s with implicit TLS", tls)
	}
	fmt.Fprintf(w, "\nuser:      %s\npassword:  %s\n\n", user, password)
	if a := d.Addr(daemon.ListenHTTP); a != nil {
		fmt.Fprintf(w, "Health check: http://%s/healthz\n", a)
	}
	fmt.Fprintf(w, "Try it: swaks --server localhost:%s --tls --auth-user %s --auth-password '%s' --from %s --to %s\n\n", sub, user, password, user, user)
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
