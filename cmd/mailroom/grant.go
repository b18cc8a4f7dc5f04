package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"mailroom/internal/admin"
)

const grantUsage = `mailroom grant COMMAND [--config FILE]
  send-as --on ADDRESS|@DOMAIN --to MAILBOX         From: ADDRESS; nothing shows MAILBOX
  send-on-behalf --on ADDRESS|@DOMAIN --to MAILBOX  From: ADDRESS, Sender: MAILBOX
  list [--on ADDRESS|@DOMAIN] [--to MAILBOX]
  revoke send-as|send-on-behalf --on ADDRESS|@DOMAIN --to MAILBOX`

func runGrant(ctx context.Context, args []string, s ioSet) error {
	if len(args) == 0 {
		return usagef("usage: %s", grantUsage)
	}
	fs := flag.NewFlagSet("grant "+args[0], flag.ContinueOnError)
	cfg := configFlag(fs)
	on := fs.String("on", "", "the address (or @domain) that may be used")
	to := fs.String("to", "", "the mailbox that gets the right")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return showHelp(err, s.out, grantUsage)
	}
	cmd := args[0]
	kind := cmd
	switch cmd {
	case "send-as", "send-on-behalf":
		if len(pos) != 0 || *on == "" || *to == "" {
			return usagef("usage: mailroom grant %s --on ADDRESS|@DOMAIN --to MAILBOX", cmd)
		}
	case "revoke":
		if len(pos) != 1 || *on == "" || *to == "" {
			return usagef("usage: mailroom grant revoke send-as|send-on-behalf --on ADDRESS|@DOMAIN --to MAILBOX")
		}
		kind = pos[0]
	case "list":
		if len(pos) != 0 {
			return usagef("usage: mailroom grant list [--on ADDRESS|@DOMAIN] [--to MAILBOX]")
		}
	default:
		return usagef("unknown grant command %q; usage: %s", cmd, grantUsage)
	}
	return withAdmin(ctx, *cfg, func(a *admin.Service) error {
		spec := admin.GrantSpec{Kind: kind, On: *on, To: *to}
		switch cmd {
		case "revoke":
			if err := a.RevokeGrant(ctx, spec); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "revoked: %s may no longer send %s %s\n", *to, verb(kind), *on)
			return nil
		case "list":
			gs, err := a.Grants(ctx, *on, *to)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ON\tGRANT\tTO\tMEANING")
			for _, g := range gs {
				target := g.On
				if target[0] == '@' {
					target = "any address of " + target[1:]
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s may send %s %s\n", g.On, g.Kind, g.Grantee, g.Grantee, verb(g.Kind), target)
			}
			return tw.Flush()
		}
		g, err := a.AddGrant(ctx, spec)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "granted: %s may send %s %s\n", g.Grantee, verb(g.Kind), g.On)
		return nil
	})
}

func verb(kind string) string {
	if kind == "send-on-behalf" {
		return "on behalf of"
	}
	return "as"
}
