package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/unit"
)

// The trace in the API: GET /api/v1/trace lists submission attempts, one
// page at a time (next is the cursor of the following page); GET
// /api/v1/trace/{id} is one attempt with its session's events and its
// recipients' deliveries. The console reads the same query parameters.

// traceQuery reads the trace's filter from query parameters, as the
// console and the API take them; since defaults to def.
func traceQuery(v url.Values, def string) (admin.TraceQuery, error) {
	q := admin.TraceQuery{Mailbox: v.Get("mailbox"), Sender: v.Get("sender"), Recipient: v.Get("recipient"), Subject: v.Get("subject"),
		MessageID: v.Get("message_id"), QueueID: v.Get("queue_id"), Status: v.Get("status"), Cursor: v.Get("cursor")}
	since := v.Get("since")
	if since == "" {
		since = def
	}
	var err error
	if q.Since, err = agoDuration("since", since); err != nil {
		return q, err
	}
	if q.Until, err = agoDuration("until", v.Get("until")); err != nil {
		return q, err
	}
	if l := v.Get("limit"); l != "" {
		if q.Limit, err = strconv.Atoi(l); err != nil || q.Limit < 1 {
			return q, fmt.Errorf("%w: limit=%q: want 1 to %d", admin.ErrInvalid, l, admin.MaxTracePage)
		}
	}
	return q, nil
}

// agoDuration reads a period back from now: "" or "0" (none), or a
// duration as unit.ParseDuration reads it ("7d", "12h", "30 minutes").
func agoDuration(name, v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "0" {
		return 0, nil
	}
	if d, err := unit.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%w: %s=%q: want a number of days such as 7d, or a duration such as 12h or 30m", admin.ErrInvalid, name, v)
}

// attemptID reads the {id} of a trace path.
func attemptID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: trace attempt %q", admin.ErrNotFound, r.PathValue("id"))
	}
	return id, nil
}

func searchTrace(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		q, err := traceQuery(r.URL.Query(), "1d")
		if err != nil {
			return 0, nil, err
		}
		page, err := a.TraceAttempts(r.Context(), q, time.Now())
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, attemptPageJSON{Attempts: nonNil(mapList(page.Attempts, attemptView)), Next: page.Next}, nil
	}
}

func traceAttempt(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		id, err := attemptID(r)
		if err != nil {
			return 0, nil, err
		}
		d, err := a.TraceAttempt(r.Context(), id)
		if err != nil {
			return 0, nil, err
		}
		v := attemptDetailJSON{attemptJSON: attemptView(d.Attempt), Events: nonNil(mapList(d.Events, eventView)), Copies: nonNil(d.Copies),
			ByRecipient: []recipientJSON{}}
		for _, rd := range d.ByRecipient {
			rv := recipientJSON{Recipient: rd.Recipient, State: rd.State, Attempts: rd.Attempts, LastReply: rd.LastReply, Events: nonNil(mapList(rd.Events, eventView))}
			if !rd.NextAttemptAt.IsZero() {
				rv.NextAttemptAt = &rd.NextAttemptAt
			}
			v.ByRecipient = append(v.ByRecipient, rv)
		}
		return http.StatusOK, v, nil
	}
}

type attemptPageJSON struct {
	Attempts []attemptJSON `json:"attempts"`
	Next     string        `json:"next,omitempty"`
}

type attemptJSON struct {
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	Session      string    `json:"session,omitempty"`
	Remote       string    `json:"remote,omitempty"`
	TLS          string    `json:"tls,omitempty"`
	Mailbox      string    `json:"mailbox,omitempty"`
	Connector    string    `json:"connector,omitempty"`
	EnvelopeFrom string    `json:"envelope_from"`
	HeaderFrom   []string  `json:"header_from"`
	HeaderSender string    `json:"header_sender,omitempty"`
	Recipients   []string  `json:"recipients"`
	Subject      string    `json:"subject"`
	Size         int64     `json:"size"`
	QueueID      string    `json:"queue_id,omitempty"`
	MessageID    string    `json:"message_id,omitempty"`
	Status       string    `json:"status"`
	Delivery     string    `json:"delivery,omitempty"`
	Deliveries   string    `json:"deliveries,omitempty"`
	Command      string    `json:"command,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	Reply        string    `json:"reply,omitempty"`
	Detail       string    `json:"detail,omitempty"`
}

func attemptView(a admin.Attempt) attemptJSON {
	return attemptJSON{a.ID, a.At, a.Session, a.Remote, a.TLS, a.Mailbox, a.Connector, a.EnvelopeFrom, nonNil(a.HeaderFrom), a.HeaderSender,
		nonNil(a.Recipients), a.Subject, a.Size, a.QueueID, a.MessageID, a.Status, a.Delivery, a.Deliveries, a.Command, a.Reason, a.Reply, a.Detail}
}

type attemptDetailJSON struct {
	attemptJSON
	Events      []eventJSON     `json:"events"`
	ByRecipient []recipientJSON `json:"recipient_deliveries"`
	Copies      []string        `json:"sent_items_of"`
}

type recipientJSON struct {
	Recipient     string      `json:"recipient"`
	State         string      `json:"state,omitempty"`
	Attempts      int         `json:"attempts"`
	NextAttemptAt *time.Time  `json:"next_attempt_at,omitempty"`
	LastReply     string      `json:"last_reply,omitempty"`
	Events        []eventJSON `json:"events"`
}

func eventView(e store.TraceEvent) eventJSON {
	return eventJSON{e.ID, e.At, e.Kind, e.Status, e.Session, e.QueueID, e.Command, e.Remote, e.TLS, e.Mailbox,
		e.Sender, e.Recipients, e.MessageID, e.Size, e.Reason, e.Code, e.Enhanced, e.Text, e.Detail}
}
