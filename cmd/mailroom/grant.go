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
  full-access --on MAILBOX --to MAILBOX              open MAILBOX's folders over IMAP (no sending)
  list [--on ADDRESS|@DOMAIN] [--to MAILBOX]
  revoke send-as|send-on-behalf|full-access --on ADDRESS|@DOMAIN --to MAILBOX`

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
	case "send-as", "send-on-behalf", "full-access":
		if len(pos) != 0 || *on == "" || *to == "" {
			return usagef("usage: mailroom grant %s --on ADDRESS|@DOMAIN --to MAILBOX", cmd)
		}
	case "revoke":
		if len(pos) != 1 || *on == "" || *to == "" {
			return usagef("usage: mailroom grant revoke send-as|send-on-behalf|full-access --on ADDRESS|@DOMAIN --to MAILBOX")
		}
		kind = pos[0]
	case "list":
		if len(pos) != 0 {
			return usagef("usage: mailroom grant list [--on ADDRESS|@DOMAIN] [--to MAILBOX]")
		}
	default:
		return usagef("unknown grant command %q; usage: %s", cmd, grantUsage)
	}
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
		spec := admin.GrantSpec{Kind: kind, On: *on, To: *to}
		switch cmd {
		case "revoke":
			if err := a.RevokeGrant(ctx, spec); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "revoked: %s may no longer %s\n", *to, right(kind, *on))
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
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s may %s\n", g.On, g.Kind, g.Grantee, g.Grantee, right(g.Kind, target))
			}
			return tw.Flush()
		}
		g, err := a.AddGrant(ctx, spec)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "granted: %s may %s\n", g.Grantee, right(g.Kind, g.On))
		return nil
	})
}

// grantLabel is how `mailbox show` heads a grant: held by the mailbox, or
// given to another on it.
func grantLabel(kind string, held bool) string {
	switch {
	case kind == "full-access" && held:
		return "may open (full access)"
	case kind == "full-access":
		return "opened by (full access)"
	case kind == "send-on-behalf" && held:
		return "may send on behalf of"
	case kind == "send-on-behalf":
		return "sent on behalf of by"
	case held:
		return "may send as"
	}
	return "sent as by"
}

// right says what a grant of kind on target lets its holder do.
func right(kind, target string) string {
	switch kind {
	case "send-on-behalf":
		return "send on behalf of " + target
	case "full-access":
		return "open the folders of " + target + " over IMAP (full access does not allow sending)"
	}
	return "send as " + target
}
