package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"mailroom/internal/admin"
)

const traceUsage = `mailroom trace [--config FILE] [--mailbox A] [--sender A] [--recipient A] [--subject TEXT]
                [--message-id ID] [--queue-id ID] [--status accepted|refused|deferred|delivered|failed|tls_failed|no_command]
                [--since DURATION] [--until DURATION] [--limit N] [--cursor NEXT]
mailroom trace show [--config FILE] ID
  One line per submission attempt, newest first. An address filter that is a whole
  address matches it; a beginning ("bob@") matches every address that starts with it.
  --sender matches the envelope sender, the header From and the header Sender.`

func runTrace(ctx context.Context, args []string, s ioSet) error {
	if len(args) > 0 && args[0] == "show" {
		return runTraceShow(ctx, args[1:], s)
	}
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	cfg := configFlag(fs)
	var q admin.TraceQuery
	fs.StringVar(&q.Mailbox, "mailbox", "", "the logged-in mailbox (or the connector's)")
	fs.StringVar(&q.Sender, "sender", "", "envelope sender, header From or header Sender")
	fs.StringVar(&q.Recipient, "recipient", "", "an envelope recipient")
	fs.StringVar(&q.Subject, "subject", "", "part of the Subject")
	fs.StringVar(&q.MessageID, "message-id", "", "the Message-ID header")
	fs.StringVar(&q.QueueID, "queue-id", "", "the queue id of the 250 reply")
	fs.StringVar(&q.Status, "status", "", "accepted, refused, deferred, delivered, failed (a delivery of the message), tls_failed (a TLS handshake that did not complete) or no_command (a session that ended after EHLO)")
	durationVar(fs, &q.Since, "since", 24*time.Hour, "only what happened in this last period: 1d, 12h (0: all)")
	durationVar(fs, &q.Until, "until", 0, "only what happened at least this long ago: 2h (0: up to now)")
	fs.IntVar(&q.Limit, "limit", 20, fmt.Sprintf("attempts a page, at most %d", admin.MaxTracePage))
	fs.StringVar(&q.Cursor, "cursor", "", "the next page, as the previous page printed it")
	pos, err := parse(fs, args)
	if err != nil {
		return showHelp(err, s.out, traceUsage)
	}
	if len(pos) != 0 {
		return usagef("usage: %s", traceUsage)
	}
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
		page, err := a.TraceAttempts(ctx, q, time.Now())
		if err != nil {
			return err
		}
		if len(page.Attempts) == 0 {
			fmt.Fprintln(s.out, "no submission attempts match")
			return nil
		}
		printAttempts(s.out, page.Attempts)
		if page.Next != "" {
			fmt.Fprintf(s.out, "more: add --cursor %s\n", page.Next)
		}
		return nil
	})
}

// printAttempts writes one line per attempt, in columns.
func printAttempts(out io.Writer, as []admin.Attempt) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tLOGIN\tENVELOPE FROM\tHEADER FROM\tTO\tSUBJECT\tSIZE\tOUTCOME\tREASON")
	for _, a := range as {
		outcome := a.Status
		if a.Command != "" {
			outcome += " at " + a.Command
		}
		if a.Delivery != "" {
			outcome += " (" + a.Deliveries + ")"
		}
		reason := a.Reason
		if a.Reply != "" {
			reason += " " + a.Reply
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.AtText(), dash(a.Login()), dash(a.EnvelopeFrom),
			dash(headerFrom(a)), dash(recipientsText(a.Recipients)), dash(cut(a.Subject, 40)), dash(a.SizeText()), outcome, dash(cut(strings.TrimSpace(reason), 100)))
	}
	tw.Flush()
}

// headerFrom is the header From, with the Sender when there is one.
func headerFrom(a admin.Attempt) string {
	s := strings.Join(a.HeaderFrom, ",")
	if a.HeaderSender != "" {
		s += " (sender " + a.HeaderSender + ")"
	}
	return s
}

// recipientsText is the first recipient and how many more.
func recipientsText(rs []string) string {
	switch len(rs) {
	case 0:
		return ""
	case 1:
		return rs[0]
	}
	return fmt.Sprintf("%s +%d", rs[0], len(rs)-1)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cut shortens s to n runes for a column, marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func runTraceShow(ctx context.Context, args []string, s ioSet) error {
	fs := flag.NewFlagSet("trace show", flag.ContinueOnError)
	cfg := configFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return showHelp(err, s.out, traceUsage)
	}
	if len(pos) != 1 {
		return usagef("usage: %s", traceUsage)
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usagef("trace show %s: want the ID of a line of mailroom trace", pos[0])
	}
	return withAdmin(ctx, s, *cfg, func(a *admin.Service) error {
		d, err := a.TraceAttempt(ctx, id)
		if err != nil {
			return err
		}
		printAttempt(s.out, d)
		return nil
	})
}

// printAttempt writes one attempt: its fields, its session's events, its
// recipients' deliveries.
func printAttempt(out io.Writer, d admin.AttemptDetail) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", k, v)
		}
	}
	row("attempt", strconv.FormatInt(d.ID, 10))
	row("time", d.AtText())
	outcome := d.Status
	if d.Command != "" {
		outcome += " at " + d.Command
	}
	row("outcome", outcome)
	row("reason", d.Reason)
	row("reply", d.Reply)
	row("login", d.Login())
	row("client", strings.TrimSpace(d.Remote+" "+d.TLS))
	row("envelope from", d.EnvelopeFrom)
	row("header from", strings.Join(d.HeaderFrom, ", "))
	row("header sender", d.HeaderSender)
	row("recipients", strings.Join(d.Recipients, ", "))
	row("subject", d.Subject)
	row("size", d.SizeText())
	row("message-id", d.MessageID)
	row("queue id", d.QueueID)
	row("delivery", d.Deliveries)
	row("sent items of", strings.Join(d.Copies, ", "))
	row("session", d.Session)
	row("detail", d.Detail)
	tw.Flush()
	if len(d.Events) > 0 {
		fmt.Fprintln(out, "\nsession events:")
		for _, e := range d.Events {
			fmt.Fprintln(out, admin.FormatEvent(e))
		}
	}
	for _, r := range d.ByRecipient {
		state := r.State
		if state == "" {
			state = "no longer queued"
		}
		fmt.Fprintf(out, "\nrecipient %s: %s, %d attempt(s)", r.Recipient, state, r.Attempts)
		if !r.NextAttemptAt.IsZero() {
			fmt.Fprintf(out, ", next at %s", admin.TimeText(r.NextAttemptAt))
		}
		if r.LastReply != "" {
			fmt.Fprintf(out, "\n    last reply: %s", r.LastReply)
		}
		fmt.Fprintln(out)
		for _, e := range r.Events {
			fmt.Fprintln(out, admin.FormatEvent(e))
		}
	}
}
