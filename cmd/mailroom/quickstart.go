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
)

const quickstartUsage = `mailroom quickstart [--config FILE] [--data-dir DIR] [--domain DOMAIN] [--mailbox ADDRESS]`

// runQuickstart makes a data dir with a demo domain and mailbox (a new
// password each run), starts serving, and prints the client settings.
func runQuickstart(ctx context.Context, args []string, s ioSet) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	dataDir := fs.String("data-dir", "", "data directory (default: data_dir of the configuration, \"data\")")
	domain := fs.String("domain", "example.test", "demo domain to create")
	mailbox := fs.String("mailbox", "", "demo mailbox to create (default: demo@DOMAIN)")
	pos, err := parse(fs, args)
	if err != nil {
		return showHelp(err, s.out, quickstartUsage)
	}
	if len(pos) != 0 {
		return usagef("usage: %s", quickstartUsage)
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *mailbox == "" {
		*mailbox = "demo@" + *domain
	}
	st, err := admin.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	a := admin.New(st)
	if _, err := a.AddDomain(ctx, *domain); err != nil && !errors.Is(err, admin.ErrExists) {
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
