package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

const appPasswordUsage = `mailroom app-password COMMAND [--config FILE]
  add MAILBOX --label LABEL [--networks CIDR,...]   prints the password once
  list [MAILBOX]
  set MAILBOX LABEL --networks CIDR,...             changes where it may be used from, keeping
                                                    the password (--networks "" lifts the restriction)
  revoke MAILBOX LABEL`

func runAppPassword(ctx context.Context, args []string, s ioSet) error {
	if len(args) == 0 {
		return usagef("usage: %s", appPasswordUsage)
	}
	fs := flag.NewFlagSet("app-password "+args[0], flag.ContinueOnError)
	cfg := configFlag(fs)
	label := fs.String("label", "", "a name for the device or app, such as printer-3f")
	networks := fs.String("networks", "", "comma-separated CIDR prefixes it may be used from (default: wherever the mailbox may)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return showHelp(err, s.out, appPasswordUsage)
	}
	switch {
	case args[0] == "add" && len(pos) == 1 && *label != "":
	case args[0] == "list" && len(pos) <= 1:
	case args[0] == "revoke" && len(pos) == 2:
	case args[0] == "set" && len(pos) == 2 && flagGiven(fs, "networks"):
	default:
		return usagef("usage: %s", appPasswordUsage)
	}
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
		switch args[0] {
		case "add":
			ap, secret, err := a.AddAppPassword(ctx, admin.NewAppPassword{Mailbox: pos[0], Label: *label, Networks: splitList(*networks)})
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "app password %s added to %s; log in as %s with (shown once):\n%s\n", ap.Label, ap.Mailbox, ap.Mailbox, secret)
		case "list":
			mb := ""
			if len(pos) == 1 {
				mb = pos[0]
			}
			aps, err := a.AppPasswords(ctx, mb)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MAILBOX\tLABEL\tNETWORKS\tCREATED\tLAST USED")
			for _, ap := range aps {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ap.Mailbox, ap.Label, orAny(ap.Networks), ap.CreatedAt.Format("2006-01-02 15:04"), lastUse(ap))
			}
			return tw.Flush()
		case "set":
			ap, err := a.SetAppPasswordNetworks(ctx, pos[0], pos[1], splitList(*networks))
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "app password %s of %s may be used from %s; its password is unchanged\n", ap.Label, ap.Mailbox, orAny(ap.Networks))
		case "revoke":
			if err := a.RevokeAppPassword(ctx, pos[0], pos[1]); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "app password %s of %s revoked\n", pos[1], pos[0])
		}
		return nil
	})
}

func lastUse(ap store.AppPassword) string {
	if ap.LastUsedAt.IsZero() {
		return "never"
	}
	return ap.LastUsedAt.Format("2006-01-02 15:04") + " from " + ap.LastUsedFrom
}
