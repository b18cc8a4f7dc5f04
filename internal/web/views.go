package web

import (
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
)

// The JSON shapes of the API's objects: snake_case names, times in RFC
// 3339, durations as Go duration strings. They are the API's contract;
// store types stay free of JSON tags.

type limitsJSON struct {
	Concurrent           int `json:"concurrent"`
	MessagesPerMinute    int `json:"messages_per_minute"`
	RecipientsPerMessage int `json:"recipients_per_message"`
	RecipientsPerDay     int `json:"recipients_per_day"`
}

func limitsView(l store.Limits) limitsJSON {
	return limitsJSON{l.Concurrent, l.MessagesPerMinute, l.RecipientsPerMessage, l.RecipientsPerDay}
}

type domainJSON struct {
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	Role        string     `json:"role"`
	Networks    []string   `json:"networks"`
	Limits      limitsJSON `json:"limits"`
	CreatedAt   time.Time  `json:"created_at"`
}

func domainView(d store.Domain) domainJSON {
	return domainJSON{d.Name, d.DisplayName, d.Role, nonNil(d.Networks), limitsView(d.Limits), d.CreatedAt}
}

type mailboxJSON struct {
	Address          string     `json:"address"`
	Domain           string     `json:"domain"`
	DisplayName      string     `json:"display_name"`
	Shared           bool       `json:"shared"`
	SMTPAuth         bool       `json:"smtp_auth"`
	IMAP             bool       `json:"imap"`
	SaveSent         bool       `json:"save_sent"`
	CopySentAs       bool       `json:"copy_sent_as"`
	CopySentOnBehalf bool       `json:"copy_sent_on_behalf"`
	SentRetention    string     `json:"sent_retention"` // "" keeps Sent Items forever
	QuotaBytes       int64      `json:"quota_bytes"`
	Networks         []string   `json:"networks"`
	Limits           limitsJSON `json:"limits"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

func mailboxView(m store.Mailbox) mailboxJSON {
	ret := ""
	if m.SentRetention > 0 {
		ret = m.SentRetention.String()
	}
	return mailboxJSON{m.Address, m.Domain, m.DisplayName, m.Shared, m.SMTPAuth, m.IMAP, m.SaveSent, m.CopySentAs, m.CopySentOnBehalf,
		ret, m.QuotaBytes, nonNil(m.Networks), limitsView(m.Limits), m.CreatedAt, m.UpdatedAt}
}

type appPasswordJSON struct {
	Mailbox      string     `json:"mailbox"`
	Label        string     `json:"label"`
	Networks     []string   `json:"networks"`
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	LastUsedFrom string     `json:"last_used_from"`
}

func appPasswordView(p store.AppPassword) appPasswordJSON {
	v := appPasswordJSON{Mailbox: p.Mailbox, Label: p.Label, Networks: nonNil(p.Networks), CreatedAt: p.CreatedAt, LastUsedFrom: p.LastUsedFrom}
	if !p.LastUsedAt.IsZero() {
		v.LastUsedAt = &p.LastUsedAt
	}
	return v
}

type grantJSON struct {
	Kind      string    `json:"kind"`
	On        string    `json:"on"`
	To        string    `json:"to"`
	CreatedAt time.Time `json:"created_at"`
}

func grantView(g store.Grant) grantJSON { return grantJSON{g.Kind, g.On, g.Grantee, g.CreatedAt} }

type oauthClientJSON struct {
	Issuer    string    `json:"issuer"`
	ClientID  string    `json:"client_id"`
	Mailboxes []string  `json:"mailboxes"`
	CreatedAt time.Time `json:"created_at"`
}

func oauthClientView(c store.OAuthClient) oauthClientJSON {
	return oauthClientJSON{c.Issuer, c.ClientID, nonNil(c.Mailboxes), c.CreatedAt}
}

type queueJSON struct {
	QueueID       string     `json:"queue_id"`
	MessageID     string     `json:"message_id"`
	From          string     `json:"from"`
	Recipient     string     `json:"recipient"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastReply     string     `json:"last_reply"`
	Size          int64      `json:"size"`
	AcceptedAt    time.Time  `json:"accepted_at"`
}

// queueView is a queue row as the API shows it: in the state /metrics and
// the console report (store.ShownState), with its next attempt time while
// it waits.
func queueView(e store.QueueEntry) queueJSON {
	v := queueJSON{QueueID: e.MessageID, MessageID: e.HeaderID, From: e.EnvelopeFrom, Recipient: e.Recipient, State: store.ShownState(e.State, e.Attempts),
		Attempts: e.Attempts, LastReply: e.LastReply, Size: e.Size, AcceptedAt: e.AcceptedAt}
	if e.State == store.StateQueued {
		v.NextAttemptAt = &e.NextAttemptAt
	}
	return v
}

type usageJSON struct {
	Mailbox   string     `json:"mailbox"`
	Effective limitsJSON `json:"effective_limits"`
	Usage     struct {
		InFlight           int `json:"in_flight"`
		MessagesLastMinute int `json:"messages_last_minute"`
		RecipientsLast24h  int `json:"recipients_last_24h"`
	} `json:"usage"`
	// Live says whether in_flight comes from a running server.
	Live         bool  `json:"live"`
	StorageBytes int64 `json:"storage_bytes"`
}

func usageView(addr string, st admin.LimitStatus, storage int64) usageJSON {
	v := usageJSON{Mailbox: addr, Effective: limitsView(st.Effective), Live: st.Live, StorageBytes: storage}
	v.Usage.InFlight, v.Usage.MessagesLastMinute, v.Usage.RecipientsLast24h = st.Usage.InFlight, st.Usage.MessagesLastMin, st.Usage.RecipientsLast24
	return v
}

type eventJSON struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status,omitempty"`
	Session    string    `json:"session,omitempty"`
	QueueID    string    `json:"queue_id,omitempty"`
	Command    string    `json:"command,omitempty"`
	Remote     string    `json:"remote,omitempty"`
	TLS        string    `json:"tls,omitempty"`
	Mailbox    string    `json:"mailbox,omitempty"`
	Sender     string    `json:"sender,omitempty"`
	Recipients []string  `json:"recipients,omitempty"`
	MessageID  string    `json:"message_id,omitempty"`
	Size       int64     `json:"size,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	Code       int       `json:"code,omitempty"`
	Enhanced   string    `json:"enhanced,omitempty"`
	Text       string    `json:"text,omitempty"`
	Detail     string    `json:"detail,omitempty"`
}

// nonNil makes empty lists encode as [], not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// mapList converts a list with a view function.
func mapList[T, V any](in []T, f func(T) V) []V {
	out := make([]V, len(in))
	for i, x := range in {
		out[i] = f(x)
	}
	return out
}
