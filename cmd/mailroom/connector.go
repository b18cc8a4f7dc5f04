package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

const connectorUsage = `mailroom connector COMMAND [--config FILE]
  add NAME --mailbox ADDRESS [--networks CIDR,...] [--cert-fingerprint SHA256,...] [--legacy-tls]
  list
  set NAME [--mailbox ADDRESS] [--networks CIDR,...] [--cert-fingerprint SHA256,...] [--legacy-tls=true|false]
  remove NAME
A device whose address is in the networks, or whose TLS client certificate has the
fingerprint, sends without AUTH as the mailbox (its grants, limits and Sent Items apply).
--legacy-tls lets the networks use TLS 1.0 and 1.1.`

func runConnector(ctx context.Context, args []string, s ioSet) error {
	if len(args) == 0 {
		return usagef("usage: %s", connectorUsage)
	}
	fs := flag.NewFlagSet("connector "+args[0], flag.ContinueOnError)
	cfg := configFlag(fs)
	mailbox := fs.String("mailbox", "", "the mailbox the devices send as")
	networks := fs.String("networks", "", "comma-separated CIDR prefixes (or addresses) of the devices")
	fps := fs.String("cert-fingerprint", "", "comma-separated SHA-256 fingerprints of the devices' TLS client certificates")
	legacy := fs.Bool("legacy-tls", false, "allow TLS 1.0 and 1.1 from the networks")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return showHelp(err, s.out, connectorUsage)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case args[0] == "add" && len(pos) == 1 && *mailbox != "":
	case args[0] == "list" && len(pos) == 0:
	case args[0] == "set" && len(pos) == 1:
	case args[0] == "remove" && len(pos) == 1:
	default:
		return usagef("usage: %s", connectorUsage)
	}
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
		switch args[0] {
		case "add":
			c, err := a.AddConnector(ctx, admin.ConnectorSpec{Name: pos[0], Mailbox: *mailbox, Networks: splitList(*networks), Fingerprints: splitList(*fps), LegacyTLS: *legacy})
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "connector %s added: %s sends without AUTH as %s\n", c.Name, admits(c), c.Mailbox)
		case "list":
			cs, err := a.Connectors(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tMAILBOX\tNETWORKS\tCERTIFICATES\tLEGACY TLS")
			for _, c := range cs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.Mailbox, orNone(c.Networks), orNone(c.Fingerprints), yesNo(c.LegacyTLS))
			}
			return tw.Flush()
		case "set":
			var ch admin.ConnectorChange
			if set["mailbox"] {
				ch.Mailbox = mailbox
			}
			if set["networks"] {
				n := splitList(*networks)
				ch.Networks = &n
			}
			if set["cert-fingerprint"] {
				f := splitList(*fps)
				ch.Fingerprints = &f
			}
			if set["legacy-tls"] {
				ch.LegacyTLS = legacy
			}
			c, err := a.SetConnector(ctx, pos[0], ch)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "connector %s: %s sends without AUTH as %s; legacy TLS %s\n", c.Name, admits(c), c.Mailbox, yesNo(c.LegacyTLS))
		case "remove":
			if err := a.RemoveConnector(ctx, pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "connector %s removed; its devices must log in again\n", pos[0])
		}
		return nil
	})
}

// admits says whom a connector admits.
func admits(c store.Connector) string {
	var w []string
	if len(c.Networks) > 0 {
		w = append(w, "a client in "+strings.Join(c.Networks, ", "))
	}
	if len(c.Fingerprints) > 0 {
		w = append(w, fmt.Sprintf("a client with one of %d certificates", len(c.Fingerprints)))
	}
	return strings.Join(w, " or ")
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
