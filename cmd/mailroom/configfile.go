package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
)

// configFlag registers the --config flag every command takes.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "TOML configuration file (default: $"+config.EnvVar+", else ./"+config.LocalName+", else "+config.SystemPath+")")
}

// configUse is what a command may do when it finds no configuration file.
type configUse int

const (
	// forAdmin: run on the defaults only where a server without a
	// configuration file keeps its database (./data); otherwise fail.
	forAdmin configUse = iota
	// forServe: run on the defaults (DESIGN: serve runs with none).
	forServe
	// forQuickstart: as forServe, but a first run never picks up the
	// system configuration of an installed server.
	forQuickstart
)

// findConfig finds the configuration as every command does (--config,
// $MAILROOM_CONFIG, ./mailroom.toml, /etc/mailroom/mailroom.toml), loads
// it, and says on stderr which file it uses when --config did not name it.
// It creates nothing.
func findConfig(s ioSet, flagPath string, use configUse) (config.Config, error) {
	wd, err := os.Getwd()
	if err != nil {
		return config.Config{}, fmt.Errorf("working directory: %w", err)
	}
	search := config.Search{Flag: flagPath, Env: os.Getenv(config.EnvVar), Dir: wd, System: config.SystemPath}
	if use == forQuickstart {
		search.System = ""
	}
	found, err := config.Locate(search)
	if err != nil {
		return config.Config{}, err
	}
	cfg, err := config.Load(found.Path)
	if err != nil {
		return cfg, err
	}
	switch {
	case found.Path != "" && found.From != "--config":
		abs, _ := filepath.Abs(found.Path)
		fmt.Fprintf(s.err, "mailroom: using the configuration %s (found by %s)\n", abs, found.From)
	case found.Path == "" && use == forAdmin:
		db := filepath.Join(cfg.DataPath(), admin.DatabaseFile)
		if _, err := os.Stat(db); err != nil {
			return cfg, fmt.Errorf("no mailroom configuration found: looked at %s, and there is no database %s here (nothing was created). "+
				"Point at the server's configuration with --config FILE or %s=FILE, or run from the folder that holds it", search.Looked(), db, config.EnvVar)
		}
		fmt.Fprintf(s.err, "mailroom: no configuration file found; using the defaults and the database %s\n", db)
	}
	return cfg, nil
}

// noDataDir explains admin.ErrNoDataDir for the configuration at hand.
func noDataDir(err error, cfg config.Config) error {
	if !errors.Is(err, admin.ErrNoDataDir) {
		return err
	}
	return fmt.Errorf("data directory %s does not exist, and admin commands never create it: check that this is the server's configuration (data_dir), or start mailroom serve with it once to create it",
		cfg.DataPath())
}

// withAdmin finds the configuration (findConfig: it says on s.err which
// file it uses) and opens its store for one command. It never creates a
// data directory.
func withAdmin(ctx context.Context, s ioSet, cfgPath string, f func(*admin.Service) error) error {
	cfg, err := findConfig(s, cfgPath, forAdmin)
	if err != nil {
		return err
	}
	return withStore(ctx, cfg, f)
}

// withStore opens the store of a loaded configuration for one command.
func withStore(ctx context.Context, cfg config.Config, f func(*admin.Service) error) error {
	st, err := admin.OpenExistingStore(ctx, cfg)
	if err != nil {
		return noDataDir(err, cfg)
	}
	a := admin.New(st)
	a.DataDir = cfg.DataPath()
	a.PlusSeparator = cfg.Addresses.PlusSeparator
	a.OAuthIssuers = admin.OAuthIssuers(cfg.OAuth)
	a.Limits = store.Limits{Concurrent: cfg.Limits.Concurrent, MessagesPerMinute: cfg.Limits.MessagesPerMinute,
		RecipientsPerMessage: cfg.Limits.RecipientsPerMessage, RecipientsPerDay: cfg.Limits.RecipientsPerDay}
	err = f(a)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close store: %w", cerr)
	}
	return err
}
