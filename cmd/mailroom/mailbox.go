package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

const mailboxUsage = `mailroom mailbox COMMAND [--config FILE]
  add ADDRESS [--display-name NAME] [--password-stdin] [--shared]
  list [--domain DOMAIN]
  show ADDRESS
  set ADDRESS [--display-name NAME] [--smtp-auth=on|off]
  passwd ADDRESS [--password-stdin]
  remove ADDRESS`

func runMailbox(ctx context.Context, args []string, s ioSet) error {
	if len(args) == 0 {
		return usagef("usage: %s", mailboxUsage)
	}
	fs := flag.NewFlagSet("mailbox "+args[0], flag.ContinueOnError)
	cfg := configFlag(fs)
	var (
		display, domain, smtpAuth string
		pwStdin, shared           bool
	)
	switch args[0] {
	case "add":
		fs.StringVar(&display, "display-name", "", "display name")
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input (default: generate one and print it once)")
		fs.BoolVar(&shared, "shared", false, "a shared mailbox: cannot log in; others send as it by grant")
	case "list":
		fs.StringVar(&domain, "domain", "", "only this domain's mailboxes")
	case "set":
		fs.StringVar(&display, "display-name", "\x00", "display name")
		fs.StringVar(&smtpAuth, "smtp-auth", "", "on or off: whether the mailbox may log in over SMTP AUTH")
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
	return withAdmin(ctx, *cfg, func(a *admin.Service) error {
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
			m, err := a.Mailbox(ctx, pos[0])
			if err != nil {
				return err
			}
			printMailbox(s, m)
		case "set":
			var c admin.MailboxChange
			if display != "\x00" {
				c.DisplayName = &display
			}
			if smtpAuth != "" {
				v, err := parseOnOff("--smtp-auth", smtpAuth)
				if err != nil {
					return err
				}
				c.SMTPAuth = &v
			}
			if c.DisplayName == nil && c.SMTPAuth == nil {
				return usagef("mailbox set: nothing to change; give --display-name or --smtp-auth=on|off")
			}
			m, err := a.SetMailbox(ctx, pos[0], c)
			if err != nil {
				return err
			}
			printMailbox(s, m)
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

func printMailbox(s ioSet, m store.Mailbox) {
	tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "address:\t%s\n", m.Address)
	fmt.Fprintf(tw, "display name:\t%s\n", m.DisplayName)
	fmt.Fprintf(tw, "kind:\t%s\n", kindOf(m))
	fmt.Fprintf(tw, "smtp auth:\t%s\n", onOff(m.SMTPAuth))
	fmt.Fprintf(tw, "created:\t%s\n", m.CreatedAt.Format("2006-01-02 15:04:05 MST"))
	_ = tw.Flush()
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
