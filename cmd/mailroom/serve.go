package main

import (
	"context"
	"flag"
	"io"
	"log/slog"

	"mailroom/internal/config"
	"mailroom/internal/daemon"
)

const serveUsage = `mailroom serve [--config FILE]`

func runServe(ctx context.Context, args []string, s ioSet) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgPath := configFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return showHelp(err, s.out, serveUsage)
	}
	if len(pos) > 0 {
		return usagef("serve takes no arguments, got %q", pos)
	}
	cfg, err := findConfig(s, *cfgPath, forServe)
	if err != nil {
		return err
	}
	return daemon.Serve(ctx, daemon.Options{Config: cfg, Log: newLogger(cfg.Log, s.err)})
}

// newLogger builds the process log from the [log] section.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	o := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}
