package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/unit"
)

const mailboxUsage = `mailroom mailbox COMMAND [--config FILE]
  add ADDRESS [--display-name NAME] [--password-stdin] [--shared]
  list [--domain DOMAIN]
  show ADDRESS
  set ADDRESS [--display-name NAME] [--smtp-auth=on|off] [--imap=on|off] [--save-sent=on|off]
              [--copy-sent-as=on|off] [--copy-sent-on-behalf=on|off]
              [--sent-retention 30d|0] [--quota 2G|0] [--networks CIDR,...]
              [--concurrent N] [--messages-per-minute N]
              [--recipients-per-message N] [--recipients-per-day N]
  passwd ADDRESS [--password-stdin]
  remove ADDRESS
  alias add|remove MAILBOX ADDRESS`

func runMailbox(ctx context.Context, args []string, s ioSet) error {
	if len(args) == 0 {
		return usagef("usage: %s", mailboxUsage)
	}
	if args[0] == "alias" {
		return runAlias(ctx, args[1:], s)
	}
	fs := flag.NewFlagSet("mailbox "+args[0], flag.ContinueOnError)
	cfg := configFlag(fs)
	var (
		display, domain, smtpAuth, imapOn         string
		saveSent, copyAs, copyOnBehalf, retention string
		quota, networks                           string
		pwStdin, shared                           bool
		lim                                       limitFlags
	)
	switch args[0] {
	case "add":
		fs.StringVar(&display, "display-name", "", "display name")
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input (default: generate one and print it once)")
		fs.BoolVar(&shared, "shared", false, "a shared mailbox: cannot log in; others send as it by grant")
	case "list":
		fs.StringVar(&domain, "domain", "", "only this domain's mailboxes")
	case "set":
		fs.StringVar(&display, "display-name", "", "display name")
		fs.StringVar(&smtpAuth, "smtp-auth", "", "on or off: whether the mailbox may log in over SMTP AUTH")
		fs.StringVar(&imapOn, "imap", "", "on or off: whether the mailbox may read its folders over IMAP")
		fs.StringVar(&saveSent, "save-sent", "", "on or off: keep a Sent Items copy of what it submits")
		fs.StringVar(&copyAs, "copy-sent-as", "", "on or off: keep a Sent Items copy of what others send as it")
		fs.StringVar(&copyOnBehalf, "copy-sent-on-behalf", "", "on or off: keep a Sent Items copy of what others send on its behalf")
		fs.StringVar(&retention, "sent-retention", "", "remove Sent Items older than this (30d, 12h); 0 keeps them")
		fs.StringVar(&quota, "quota", "", "storage quota over all folders (500M, 2G); 0 is unlimited")
		fs.StringVar(&networks, "networks", "", "comma-separated CIDR prefixes SMTP submission may come from; \"\" removes the restriction")
		lim.register(fs)
	case "passwd":
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input (default: generate one and print it once)")
	case "show", "remove":
	default:
		return usagef("unknown mailbox command %q; usage: %s", args[0], mailboxUsage)
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return showHelp(err, s.out, mailboxUsage)
	}
	want := 1
	if args[0] == "list" {
		want = 0
	}
	if len(pos) != want {
		return usagef("usage: %s", mailboxUsage)
	}
	password := ""
	if pwStdin {
		if password, err = readPassword(s); err != nil {
			return err
		}
	}
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
		switch args[0] {
		case "add":
			m, gen, err := a.AddMailbox(ctx, admin.NewMailbox{Address: pos[0], DisplayName: display, Password: password, Shared: shared})
			if err != nil {
				return err
			}
			kind := "mailbox"
			if m.Shared {
				kind = "shared mailbox"
			}
			fmt.Fprintf(s.out, "%s %s added\n", kind, m.Address)
			printGenerated(s, gen)
		case "list":
			ms, err := a.Mailboxes(ctx, domain)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ADDRESS\tDISPLAY NAME\tKIND\tSMTP AUTH")
			for _, m := range ms {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Address, m.DisplayName, kindOf(m), onOff(m.SMTPAuth))
			}
			return tw.Flush()
		case "show":
			return showMailbox(ctx, a, s, pos[0])
		case "set":
			var c admin.MailboxChange
			if flagGiven(fs, "display-name") {
				c.DisplayName = &display
			}
			for _, f := range []struct {
				name, val string
				dst       **bool
			}{
				{"--smtp-auth", smtpAuth, &c.SMTPAuth}, {"--imap", imapOn, &c.IMAP}, {"--save-sent", saveSent, &c.SaveSent},
				{"--copy-sent-as", copyAs, &c.CopySentAs}, {"--copy-sent-on-behalf", copyOnBehalf, &c.CopySentOnBehalf},
			} {
				if f.val == "" {
					continue
				}
				v, err := parseOnOff(f.name, f.val)
				if err != nil {
					return err
				}
				*f.dst = &v
			}
			if retention != "" {
				d, err := parseDays("--sent-retention", retention)
				if err != nil {
					return err
				}
				c.SentRetention = &d
			}
			if quota != "" {
				q, err := parseSize("--quota", quota)
				if err != nil {
					return err
				}
				c.QuotaBytes = &q
			}
			if flagGiven(fs, "networks") {
				n := splitList(networks)
				c.Networks = &n
			}
			c.Limits = lim.change(fs)
			if c == (admin.MailboxChange{}) {
				return usagef("mailbox set: nothing to change; usage: %s", mailboxUsage)
			}
			if _, err := a.SetMailbox(ctx, pos[0], c); err != nil {
				return err
			}
			return showMailbox(ctx, a, s, pos[0])
		case "passwd":
			gen, err := a.SetPassword(ctx, pos[0], password)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "password of %s changed\n", pos[0])
			printGenerated(s, gen)
		case "remove":
			if err := a.RemoveMailbox(ctx, pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "mailbox %s removed\n", pos[0])
		}
		return nil
	})
}

func readPassword(s ioSet) (string, error) {
	line, err := bufio.NewReader(s.in).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil {
			return "", fmt.Errorf("--password-stdin: no password on standard input: %v", err)
		}
		return "", fmt.Errorf("--password-stdin: the first line of standard input is empty")
	}
	return line, nil
}

func printGenerated(s ioSet, pw string) {
	if pw != "" {
		fmt.Fprintf(s.out, "generated password (shown once): %s\n", pw)
	}
}

// showMailbox prints a mailbox with its aliases, grants and usage.
func showMailbox(ctx context.Context, a *admin.Service, s ioSet, addr string) error {
	m, err := a.Mailbox(ctx, addr)
	if err != nil {
		return err
	}
	aliases, err := a.Aliases(ctx, m.Address)
	if err != nil {
		return err
	}
	usage, err := a.Usage(ctx, m.Address)
	if err != nil {
		return err
	}
	held, err := a.Grants(ctx, "", m.Address)
	if err != nil {
		return err
	}
	on, err := a.Grants(ctx, m.Address, "")
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "address:\t%s\n", m.Address)
	fmt.Fprintf(tw, "display name:\t%s\n", m.DisplayName)
	fmt.Fprintf(tw, "kind:\t%s\n", kindOf(m))
	fmt.Fprintf(tw, "smtp auth:\t%s\n", onOff(m.SMTPAuth))
	fmt.Fprintf(tw, "imap:\t%s\n", onOff(m.IMAP))
	fmt.Fprintf(tw, "aliases:\t%s\n", strings.Join(aliases, ", "))
	fmt.Fprintf(tw, "save sent:\t%s\n", onOff(m.SaveSent))
	fmt.Fprintf(tw, "copy sent as:\t%s\n", onOff(m.CopySentAs))
	fmt.Fprintf(tw, "copy sent on behalf:\t%s\n", onOff(m.CopySentOnBehalf))
	fmt.Fprintf(tw, "sent retention:\t%s\n", formatDays(m.SentRetention))
	quota := "unlimited"
	if m.QuotaBytes > 0 {
		quota = unit.Size(m.QuotaBytes)
	}
	fmt.Fprintf(tw, "storage:\t%s used of %s\n", unit.Size(usage), quota)
	fmt.Fprintf(tw, "networks:\t%s\n", orAny(m.Networks))
	ls, err := a.LimitStatus(ctx, m.Address, time.Now())
	if err != nil {
		return err
	}
	e, u := ls.Effective, ls.Usage
	inflight := "no server running"
	if ls.Live {
		inflight = fmt.Sprintf("%d of %d", u.InFlight, e.Concurrent)
	}
	fmt.Fprintf(tw, "limit overrides:\t%s\n", formatLimits(m.Limits, "-"))
	fmt.Fprintf(tw, "in flight:\t%s\n", inflight)
	fmt.Fprintf(tw, "messages this minute:\t%d of %d\n", u.MessagesLastMin, e.MessagesPerMinute)
	fmt.Fprintf(tw, "recipients last 24h:\t%d of %d\n", u.RecipientsLast24, e.RecipientsPerDay)
	fmt.Fprintf(tw, "recipients per message:\t%d\n", e.RecipientsPerMessage)
	aps, err := a.AppPasswords(ctx, m.Address)
	if err != nil {
		return err
	}
	for _, ap := range aps {
		fmt.Fprintf(tw, "app password:\t%s (last used %s)\n", ap.Label, lastUse(ap))
	}
	for _, g := range held {
		fmt.Fprintf(tw, "%s:\t%s (%s grant)\n", grantLabel(g.Kind, true), g.On, g.Kind)
	}
	for _, g := range on {
		fmt.Fprintf(tw, "%s:\t%s (%s grant on %s)\n", grantLabel(g.Kind, false), g.Grantee, g.Kind, g.On)
	}
	fmt.Fprintf(tw, "created:\t%s\n", m.CreatedAt.Format("2006-01-02 15:04:05 MST"))
	return tw.Flush()
}

const aliasUsage = "mailroom mailbox alias add|remove MAILBOX ADDRESS [--config FILE]"

func runAlias(ctx context.Context, args []string, s ioSet) error {
	if len(args) == 0 {
		return usagef("usage: %s", aliasUsage)
	}
	fs := flag.NewFlagSet("mailbox alias "+args[0], flag.ContinueOnError)
	cfg := configFlag(fs)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return showHelp(err, s.out, aliasUsage)
	}
	if len(pos) != 2 || (args[0] != "add" && args[0] != "remove") {
		return usagef("usage: %s", aliasUsage)
	}
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
		if args[0] == "add" {
			al, err := a.AddAlias(ctx, pos[0], pos[1])
			if err == nil {
				fmt.Fprintf(s.out, "alias %s added to %s\n", al, pos[0])
			}
			return err
		}
		err := a.RemoveAlias(ctx, pos[0], pos[1])
		if err == nil {
			fmt.Fprintf(s.out, "alias %s removed from %s\n", pos[1], pos[0])
		}
		return err
	})
}

func kindOf(m store.Mailbox) string {
	if m.Shared {
		return "shared"
	}
	return "user"
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func parseOnOff(flag, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true, nil
	case "off", "false", "no", "0":
		return false, nil
	}
	return false, usagef("%s=%s: want on or off", flag, v)
}
