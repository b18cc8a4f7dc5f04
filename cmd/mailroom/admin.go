package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"mailroom/internal/admin"
)

const adminUsage = `mailroom admin token COMMAND [--config FILE]
  add LABEL      create a JSON API bearer token (printed once)
  list
  revoke LABEL`

func runAdmin(ctx context.Context, args []string, s ioSet) error {
	if len(args) < 2 || args[0] != "token" {
		return usagef("usage: %s", adminUsage)
	}
	cmd := args[1]
	fs := flag.NewFlagSet("admin token "+cmd, flag.ContinueOnError)
	cfg := configFlag(fs)
	pos, err := parse(fs, args[2:])
	if err != nil {
		return showHelp(err, s.out, adminUsage)
	}
	switch {
	case cmd == "list" && len(pos) == 0, (cmd == "add" || cmd == "revoke") && len(pos) == 1:
	default:
		return usagef("usage: %s", adminUsage)
	}
	return withAdmin(ctx, *cfg, func(a *admin.Service) error {
		switch cmd {
		case "add":
			_, token, err := a.AddToken(ctx, pos[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "API token %s (shown once; only its SHA-256 hash is stored):\n%s\n", pos[0], token)
			fmt.Fprintln(s.out, "Use it as: Authorization: Bearer <token>")
			return nil
		case "revoke":
			if err := a.RevokeToken(ctx, pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "API token %s revoked\n", pos[0])
			return nil
		}
		ts, err := a.Tokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LABEL\tCREATED")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\n", t.Label, t.CreatedAt.Local().Format("2006-01-02 15:04:05"))
		}
		return tw.Flush()
	})
}
