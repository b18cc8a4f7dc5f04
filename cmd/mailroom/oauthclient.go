package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"mailroom/internal/admin"
)

const oauthClientUsage = `mailroom oauth-client COMMAND [--config FILE]
  add CLIENT_ID --mailbox ADDRESS,... [--issuer ISSUER]   app-only tokens of the client act as these mailboxes
  list
  remove CLIENT_ID [--issuer ISSUER] [--mailbox ADDRESS,...]   only those mailboxes, or the client
--issuer may be left out when one [[oauth.issuers]] is configured.`

func runOAuthClient(ctx context.Context, args []string, s ioSet) error {
	if len(args) == 0 {
		return usagef("usage: %s", oauthClientUsage)
	}
	fs := flag.NewFlagSet("oauth-client "+args[0], flag.ContinueOnError)
	cfg := configFlag(fs)
	issuer := fs.String("issuer", "", "the issuer of the client's tokens, as in [[oauth.issuers]]")
	mailboxes := fs.String("mailbox", "", "comma-separated mailboxes the client may act as")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return showHelp(err, s.out, oauthClientUsage)
	}
	switch {
	case args[0] == "add" && len(pos) == 1 && *mailboxes != "":
	case args[0] == "list" && len(pos) == 0:
	case args[0] == "remove" && len(pos) == 1:
	default:
		return usagef("usage: %s", oauthClientUsage)
	}
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
		if *issuer == "" && len(a.OAuthIssuers) == 1 {
			*issuer = a.OAuthIssuers[0]
		}
		spec := admin.OAuthClientSpec{Issuer: *issuer, ClientID: pos0(pos), Mailboxes: splitList(*mailboxes)}
		switch args[0] {
		case "add":
			c, err := a.AddOAuthClient(ctx, spec)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "OAuth client %s of %s may act as %s; its app-only tokens log in with the mailbox as the SASL user (XOAUTH2 user=)\n",
				c.ClientID, c.Issuer, strings.Join(c.Mailboxes, ", "))
		case "list":
			cs, err := a.OAuthClients(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ISSUER\tCLIENT\tMAILBOXES\tCREATED")
			for _, c := range cs {
				iss := c.Issuer
				if !slices.Contains(a.OAuthIssuers, iss) {
					iss += " (not configured)"
				}
				mbs := strings.Join(c.Mailboxes, ", ")
				if mbs == "" {
					mbs = "none"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", iss, c.ClientID, mbs, c.CreatedAt.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		case "remove":
			if err := a.RemoveOAuthClient(ctx, spec); err != nil {
				return err
			}
			if len(spec.Mailboxes) > 0 {
				fmt.Fprintf(s.out, "OAuth client %s of %s may no longer act as %s\n", spec.ClientID, spec.Issuer, strings.Join(spec.Mailboxes, ", "))
			} else {
				fmt.Fprintf(s.out, "OAuth client %s of %s removed\n", spec.ClientID, spec.Issuer)
			}
		}
		return nil
	})
}

// pos0 is the first positional argument, or "".
func pos0(pos []string) string {
	if len(pos) == 0 {
		return ""
	}
	return pos[0]
}
