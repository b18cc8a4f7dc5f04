package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"mailroom/internal/admin"
)

const traceUsage = `mailroom trace [--config FILE] [--sender ADDRESS] [--recipient ADDRESS]
                [--message-id ID] [--queue-id ID] [--status accepted|refused|deferred|delivered|failed|tls_failed|no_command]
                [--since DURATION] [--limit N]`

func runTrace(ctx context.Context, args []string, s ioSet) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	cfg := configFlag(fs)
	var q admin.TraceQuery
	fs.StringVar(&q.Sender, "sender", "", "envelope sender")
	fs.StringVar(&q.Recipient, "recipient", "", "an envelope recipient")
	fs.StringVar(&q.MessageID, "message-id", "", "the Message-ID header")
	fs.StringVar(&q.QueueID, "queue-id", "", "the queue id of the 250 reply")
	fs.StringVar(&q.Status, "status", "", "accepted, refused, deferred, delivered, failed, tls_failed (a TLS handshake that did not complete) or no_command (a session that ended after EHLO)")
	durationVar(fs, &q.Since, "since", 24*time.Hour, "only what happened in this last period: 1d, 12h (0: all)")
	fs.IntVar(&q.Limit, "limit", 20, "at most this many submission attempts")
	pos, err := parse(fs, args)
	if err != nil {
		return showHelp(err, s.out, traceUsage)
	}
	if len(pos) != 0 {
		return usagef("usage: %s", traceUsage)
	}
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
		ts, err := a.Trace(ctx, q, time.Now())
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			fmt.Fprintln(s.out, "no trace events match")
			return nil
		}
		for i, t := range ts {
			if i > 0 {
				fmt.Fprintln(s.out)
			}
			head := "session " + t.Session
			if t.Session == "" {
				head = "queue id " + strings.Join(t.QueueIDs, ",")
			} else if len(t.QueueIDs) > 0 {
				head += "  queue id " + strings.Join(t.QueueIDs, ",")
			}
			fmt.Fprintf(s.out, "== %s  [%s]\n", head, t.Status)
			for _, e := range t.Events {
				fmt.Fprintln(s.out, admin.FormatEvent(e))
			}
		}
		return nil
	})
}
