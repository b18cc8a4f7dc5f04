package admin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"mailroom/internal/store"
	"mailroom/internal/trace"
	"mailroom/internal/unit"
)

// FormatEvent is one event of an attempt's detail, as the CLI prints it.
func FormatEvent(e store.TraceEvent) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-8s", e.At.Local().Format("2006-01-02 15:04:05.000 MST"), e.Kind)
	add := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
	}
	add("status", e.Status)
	add("cmd", e.Command)
	// The connection's and the mailbox's details are shown where they
	// change; every event carries them for searching.
	if e.Kind == trace.KindSession || e.Kind == trace.KindDelivery || e.Kind == trace.KindTLS {
		add("remote", e.Remote)
	}
	if e.Kind == trace.KindSession {
		add("tls", e.TLS)
	}
	if e.Kind == trace.KindAuth || e.Kind == trace.KindCopy {
		add("mailbox", e.Mailbox)
	}
	add("queue_id", e.QueueID)
	if e.Kind == trace.KindAccepted || e.Command == "MAIL" || e.Kind == trace.KindDelivery {
		from := e.Sender
		if from == "" && e.Kind != trace.KindDelivery {
			from = "<>"
		}
		add("from", from)
	}
	add("to", strings.Join(e.Recipients, ","))
	add("msgid", e.MessageID)
	if e.Size > 0 {
		add("size", strings.ReplaceAll(unit.Size(e.Size), " ", ""))
	}
	add("reason", e.Reason)
	if e.Code != 0 {
		fmt.Fprintf(&b, "\n    reply: %d", e.Code)
		if e.Enhanced != "" {
			b.WriteString(" " + e.Enhanced)
		}
		if e.Text != "" {
			b.WriteString(" " + e.Text)
		}
	}
	if e.Detail != "" {
		b.WriteString("\n    " + e.Detail)
	}
	return b.String()
}

// traceDrop records an administrator's drop in the trace, written at once
// (the CLI process has no batching writer). A failure to write it is not
// the drop's failure: the rows are already changed.
func (s *Service) traceDrop(ctx context.Context, sel store.QueueSelector, n int, err error) {
	if err != nil || n == 0 {
		return
	}
	e := store.TraceEvent{At: time.Now(), Kind: trace.KindDropped, Status: trace.StatusFailed, QueueID: sel.MessageID,
		Detail: fmt.Sprintf("%d queued recipient(s) dropped by an administrator; no DSN sent", n)}
	if sel.Recipient != "" {
		e.Recipients = []string{sel.Recipient}
	}
	if sel.All {
		e.Detail = fmt.Sprintf("%d queued recipient(s) of all messages dropped by an administrator (queue drop --all); no DSN sent", n)
	}
	_ = s.st.AppendTrace(ctx, []store.TraceEvent{e})
}
