// Command mailroom is the SMTP Authenticated Submission service and its
// administration CLI. This package parses arguments and wires; the work is
// in internal/daemon (serving) and internal/admin (administration).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailroom:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

const usage = `mailroom: SMTP Authenticated Submission service

Usage:
  mailroom quickstart [--data-dir DIR] [--domain D] [--mailbox ADDR] [--reset-password]
  mailroom serve [--config FILE]
  mailroom domain add|list|set|remove ...
  mailroom mailbox add|list|show|set|remove|passwd|alias ...
  mailroom grant send-as|send-on-behalf|list|revoke ...
  mailroom app-password add|list|set|revoke ...
  mailroom oauth-client add|list|remove ...
  mailroom connector add|list|set|remove ...   devices that send without AUTH, by network or certificate
  mailroom queue list|retry|drop ...
  mailroom trace [--sender A] [--recipient A] [--message-id ID] [--status S] [--since DUR]
  mailroom admin token add|list|revoke ...
  mailroom admin user add|passwd|list|remove ...
  mailroom doctor DOMAIN
  mailroom load --user ADDR --password-stdin [--conns N] [--messages N] ...
  mailroom version

Every command takes --config FILE. Without it, mailroom uses $MAILROOM_CONFIG,
else ./mailroom.toml, else /etc/mailroom/mailroom.toml; serve and quickstart run
on the defaults when there is none, and only they create the data directory.
Run "mailroom COMMAND --help" (or "mailroom COMMAND SUBCOMMAND --help") for usage and flags.
`

// usageError is a command line mistake; main exits with 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// Run executes one mailroom command line. It is main without the process:
// tests call it directly.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	io := ioSet{in: stdin, out: stdout, err: stderr}
	if u, ok := helpFor(args); ok {
		fmt.Fprintln(stdout, "Usage: "+u)
		return nil
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], io)
	case "quickstart":
		return runQuickstart(ctx, args[1:], io)
	case "domain":
		return runDomain(ctx, args[1:], io)
	case "mailbox":
		return runMailbox(ctx, args[1:], io)
	case "grant":
		return runGrant(ctx, args[1:], io)
	case "app-password":
		return runAppPassword(ctx, args[1:], io)
	case "oauth-client":
		return runOAuthClient(ctx, args[1:], io)
	case "connector":
		return runConnector(ctx, args[1:], io)
	case "queue":
		return runQueue(ctx, args[1:], io)
	case "trace":
		return runTrace(ctx, args[1:], io)
	case "admin":
		return runAdmin(ctx, args[1:], io)
	case "doctor":
		return runDoctor(ctx, args[1:], io)
	case "load":
		return runLoad(ctx, args[1:], io)
	case "version":
		fmt.Fprintln(stdout, "mailroom", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown command %q", args[0])
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// ioSet carries the standard streams.
type ioSet struct {
	in       io.Reader
	out, err io.Writer
}

// parse parses flags that may appear before, between or after positional
// arguments (mailroom mailbox add ADDR --shared), returning the positionals.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp{fs}
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// errHelp asks the caller to print the flag set's usage.
type errHelp struct{ fs *flag.FlagSet }

func (e errHelp) Error() string { return "help requested" }

// showHelp prints a flag set's usage for errHelp and returns nil: asking
// for help succeeds. Other errors pass through.
func showHelp(err error, w io.Writer, synopsis string) error {
	var h errHelp
	if !errors.As(err, &h) {
		return err
	}
	fmt.Fprintf(w, "Usage: %s\n\nFlags:\n", synopsis)
	h.fs.SetOutput(w)
	h.fs.PrintDefaults()
	return nil
}
