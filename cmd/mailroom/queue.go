package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

const queueUsage = `mailroom queue COMMAND [--config FILE]
  list [--state queued|delivered|failed|all] [--id QUEUE_ID] [--limit N]
       (--state is the stored state: queued lists the rows shown deferred too)
  retry QUEUE_ID [--recipient ADDRESS] | retry --all
  drop QUEUE_ID [--recipient ADDRESS] | drop --all`

func runQueue(ctx context.Context, args []string, s ioSet) error {
	if len(args) == 0 {
		return usagef("usage: %s", queueUsage)
	}
	fs := flag.NewFlagSet("queue "+args[0], flag.ContinueOnError)
	cfg := configFlag(fs)
	var (
		state, id, rcpt string
		all             bool
		limit           int
	)
	switch args[0] {
	case "list":
		fs.StringVar(&state, "state", "queued", "queued (waiting: shown queued or deferred), delivered, failed or all")
		fs.StringVar(&id, "id", "", "only this message's recipients")
		fs.IntVar(&limit, "limit", 1000, "at most this many rows")
	case "retry", "drop":
		fs.StringVar(&rcpt, "recipient", "", "only this recipient of the message")
		fs.BoolVar(&all, "all", false, "every queued recipient of every message")
	default:
		return usagef("unknown queue command %q; usage: %s", args[0], queueUsage)
	}
	pos, err := parse(fs, args[1:])
	if err != nil {
		return showHelp(err, s.out, queueUsage)
	}
	if args[0] == "list" && len(pos) != 0 || args[0] != "list" && len(pos) > 1 {
		return usagef("usage: %s", queueUsage)
	}
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
		if args[0] == "list" {
			es, err := a.Queue(ctx, state, id, limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(s.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "QUEUE ID\tFROM\tRECIPIENT\tSTATE\tATTEMPTS\tNEXT ATTEMPT\tLAST REPLY")
			for _, e := range es {
				next := "-"
				if e.State == store.StateQueued {
					next = e.NextAttemptAt.Local().Format("2006-01-02 15:04:05")
				}
				from := e.EnvelopeFrom
				if from == "" {
					from = "<>"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.MessageID, from, e.Recipient, store.ShownState(e.State, e.Attempts), e.Attempts, next, e.LastReply)
			}
			return tw.Flush()
		}
		sel := admin.QueueSelection{Recipient: rcpt, All: all}
		if len(pos) == 1 {
			sel.ID = pos[0]
		}
		var n int
		var err error
		verb := "made due now"
		if args[0] == "retry" {
			n, err = a.RetryQueue(ctx, sel)
		} else {
			n, err = a.DropQueue(ctx, sel)
			verb = "dropped (marked failed, no DSN)"
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%d queued %s %s\n", n, plural(n, "recipient", "recipients"), verb)
		return nil
	})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
