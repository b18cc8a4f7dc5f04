package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"mailroom/internal/admin"
	"mailroom/internal/directory"
)

const adminUsage = `mailroom admin token COMMAND [--config FILE]
  add LABEL      create a JSON API bearer token (printed once)
  list
  revoke LABEL
mailroom admin user COMMAND [--config FILE]
  add NAME [--password-stdin]     create a web console administrator
                                  (default: generate a password and print it once)
  passwd NAME [--password-stdin]  set a console administrator's password
  list
  remove NAME`

func runAdmin(ctx context.Context, args []string, s ioSet) error {
	if len(args) >= 2 && args[0] == "user" {
		return runAdminUser(ctx, args[1], args[2:], s)
	}
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
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
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

// runAdminUser runs "mailroom admin user CMD": the console's administrators.
func runAdminUser(ctx context.Context, cmd string, args []string, s ioSet) error {
	fs := flag.NewFlagSet("admin user "+cmd, flag.ContinueOnError)
	cfg := configFlag(fs)
	var pwStdin bool
	if cmd == "add" || cmd == "passwd" {
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input (default: generate one and print it once)")
	}
	pos, err := parse(fs, args)
	if err != nil {
		return showHelp(err, s.out, adminUsage)
	}
	switch {
	case cmd == "list" && len(pos) == 0, (cmd == "add" || cmd == "passwd" || cmd == "remove") && len(pos) == 1:
	default:
		return usagef("usage: %s", adminUsage)
	}
	password, generated := "", false
	if cmd == "add" || cmd == "passwd" {
		if pwStdin {
			if password, err = readPassword(s); err != nil {
				return err
			}
		} else {
			password, generated = directory.GeneratePassword(), true
		}
	}
	conf, err := findConfig(s, *cfg, forAdmin)
	if err != nil {
		return err
	}
	return withStore(ctx, conf, func(a *admin.Service) error {
		switch cmd {
		case "add", "passwd":
			if cmd == "add" {
				if _, err := a.AddConsoleUser(ctx, pos[0], password); err != nil {
					return err
				}
				fmt.Fprintf(s.out, "console user %s added; %s\n", pos[0], loginAt(conf.HTTP.Listen))
			} else {
				if err := a.SetConsolePassword(ctx, pos[0], password); err != nil {
					return err
				}
				fmt.Fprintf(s.out, "password of console user %s changed\n", pos[0])
			}
			if generated {
				fmt.Fprintf(s.out, "password (shown once): %s\n", password)
			}
			return nil
		case "remove":
			if err := a.RemoveConsoleUser(ctx, pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "console user %s removed\n", pos[0])
			return nil
		}
		us, err := a.ConsoleUsers(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCREATED")
		for _, u := range us {
			fmt.Fprintf(tw, "%s\t%s\n", u.Name, u.CreatedAt.Local().Format("2006-01-02 15:04:05"))
		}
		return tw.Flush()
	})
}

// loginAt says where the console is, from the configured http.listen.
func loginAt(listen string) string {
	u := consoleURL(listen)
	switch {
	case u == "":
		return "the console is off: set [http] listen (such as \"127.0.0.1:8080\") in the configuration to use it"
	case strings.HasSuffix(u, ":0/"):
		return "log in at the console; http.listen has port 0, so its port is chosen when the server starts (see its log)"
	}
	return "log in at " + u
}
