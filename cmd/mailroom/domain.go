package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"mailroom/internal/admin"
)

const domainUsage = `mailroom domain COMMAND [--config FILE]
  add DOMAIN [--role hosted|relay]
  list
  set DOMAIN [--role hosted|relay] [--display-name client|directory] [--networks CIDR,...]
             [--concurrent N] [--messages-per-minute N]
             [--recipients-per-message N] [--recipients-per-day N]
  remove DOMAIN
  dkim DOMAIN [--selector S]`

func runDomain(ctx context.Context, args []string, s ioSet) error {
	if len(args) == 0 {
		return usagef("usage: %s", domainUsage)
	}
	fs := flag.NewFlagSet("domain "+args[0], flag.ContinueOnError)
	cfg := configFlag(fs)
	var display, networks, role string
	var lim limitFlags
	if args[0] == "add" || args[0] == "set" {
		fs.StringVar(&role, "role", "", "hosted: mail to local Inboxes (add's default); relay: mailroom holds the sending identities, every recipient goes by the domain's route")
	}
	if args[0] == "set" {
		fs.StringVar(&display, "display-name", "", "client: keep the display name the client wrote; directory: use the mailbox's display name")
		fs.StringVar(&networks, "networks", "", "comma-separated CIDR prefixes SMTP submission may come from; \"\" removes the restriction")
		lim.register(fs)
	}
	selector := ""
	if args[0] == "dkim" {
		fs.StringVar(&selector, "selector", "mailroom", "selector base: keys are published at BASE-ed25519 and BASE-rsa")
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return showHelp(err, s.out, domainUsage)
	}
	switch args[0] {
	case "add":
		if len(pos) != 1 {
			return usagef("usage: mailroom domain add DOMAIN [--role hosted|relay]")
		}
		return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
			d, err := a.AddDomainWithRole(ctx, pos[0], role)
			if err == nil {
				fmt.Fprintf(s.out, "domain %s added (%s)\n", d.Name, d.Role)
			}
			return err
		})
	case "list":
		if len(pos) != 0 {
			return usagef("usage: mailroom domain list")
		}
		return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
			ds, err := a.Domains(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "DOMAIN\tROLE\tDISPLAY NAMES\tCREATED")
			for _, d := range ds {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Name, d.Role, d.DisplayName, d.CreatedAt.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		})
	case "set":
		c := admin.DomainChange{Limits: lim.change(fs)}
		if display != "" {
			c.DisplayName = &display
		}
		if role != "" {
			c.Role = &role
		}
		if flagGiven(fs, "networks") {
			n := splitList(networks)
			c.Networks = &n
		}
		if len(pos) != 1 || (c.DisplayName == nil && c.Role == nil && c.Networks == nil && c.Limits == (admin.LimitChange{})) {
			return usagef("usage: %s", domainUsage)
		}
		return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
			d, err := a.SetDomain(ctx, pos[0], c)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "domain %s\n  role: %s\n  display names: %s\n  networks: %s\n  limits: %s\n", d.Name, d.Role, d.DisplayName, orAny(d.Networks), formatLimits(d.Limits, "inherit"))
			return nil
		})
	case "remove":
		if len(pos) != 1 {
			return usagef("usage: mailroom domain remove DOMAIN")
		}
		return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
			err := a.RemoveDomain(ctx, pos[0])
			if err == nil {
				fmt.Fprintf(s.out, "domain %s removed\n", pos[0])
			}
			return err
		})
	case "dkim":
		if len(pos) != 1 {
			return usagef("usage: mailroom domain dkim DOMAIN [--selector S]")
		}
		return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
			return printDKIM(ctx, s, a, pos[0], selector)
		})
	}
	return usagef("unknown domain command %q; usage: %s", args[0], domainUsage)
}
