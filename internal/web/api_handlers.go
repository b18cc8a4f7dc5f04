package web

import (
	"net/http"
	"time"

	"mailroom/internal/admin"
)

func listDomains(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		ds, err := a.Domains(r.Context())
		return http.StatusOK, mapList(ds, domainView), err
	}
}

func addDomain(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var req struct {
			Name string `json:"name"`
			Role string `json:"role"` // hosted (default) or relay
		}
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		d, err := a.AddDomainWithRole(r.Context(), req.Name, req.Role)
		return http.StatusCreated, domainView(d), err
	}
}

// limitsPatch changes limit overrides: absent fields stay, 0 inherits.
type limitsPatch struct {
	Concurrent           *int `json:"concurrent"`
	MessagesPerMinute    *int `json:"messages_per_minute"`
	RecipientsPerMessage *int `json:"recipients_per_message"`
	RecipientsPerDay     *int `json:"recipients_per_day"`
}

func (l *limitsPatch) change() admin.LimitChange {
	if l == nil {
		return admin.LimitChange{}
	}
	return admin.LimitChange{Concurrent: l.Concurrent, MessagesPerMinute: l.MessagesPerMinute, RecipientsPerMessage: l.RecipientsPerMessage, RecipientsPerDay: l.RecipientsPerDay}
}

func patchDomain(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var p struct {
			DisplayName *string      `json:"display_name"` // client or directory
			Role        *string      `json:"role"`         // hosted or relay
			Networks    *[]string    `json:"networks"`
			Limits      *limitsPatch `json:"limits"`
		}
		if err := decode(r, &p); err != nil {
			return 0, nil, err
		}
		d, err := a.SetDomain(r.Context(), r.PathValue("name"), admin.DomainChange{DisplayName: p.DisplayName, Role: p.Role, Networks: p.Networks, Limits: p.Limits.change()})
		return http.StatusOK, domainView(d), err
	}
}

func removeDomain(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, a.RemoveDomain(r.Context(), r.PathValue("name"))
	}
}

func listMailboxes(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		ms, err := a.Mailboxes(r.Context(), r.URL.Query().Get("domain"))
		return http.StatusOK, mapList(ms, mailboxView), err
	}
}

func addMailbox(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var req struct {
			Address     string `json:"address"`
			DisplayName string `json:"display_name"`
			Password    string `json:"password"` // empty: one is generated and returned
			Shared      bool   `json:"shared"`
		}
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		m, pw, err := a.AddMailbox(r.Context(), admin.NewMailbox{Address: req.Address, DisplayName: req.DisplayName, Password: req.Password, Shared: req.Shared})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, struct {
			Mailbox           mailboxJSON `json:"mailbox"`
			GeneratedPassword string      `json:"generated_password,omitempty"`
		}{mailboxView(m), pw}, nil
	}
}

func getMailbox(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		m, err := a.Mailbox(r.Context(), r.PathValue("address"))
		return http.StatusOK, mailboxView(m), err
	}
}

// mailboxPatch is the body of PATCH /mailboxes/{address}: absent fields
// stay as they are.
type mailboxPatch struct {
	DisplayName      *string      `json:"display_name"`
	SMTPAuth         *bool        `json:"smtp_auth"`
	IMAP             *bool        `json:"imap"`
	SaveSent         *bool        `json:"save_sent"`
	CopySentAs       *bool        `json:"copy_sent_as"`
	CopySentOnBehalf *bool        `json:"copy_sent_on_behalf"`
	SentRetention    *string      `json:"sent_retention"` // "720h"; "" or "0s" keeps forever
	QuotaBytes       *int64       `json:"quota_bytes"`
	Networks         *[]string    `json:"networks"`
	Limits           *limitsPatch `json:"limits"`
}

func patchMailbox(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var p mailboxPatch
		if err := decode(r, &p); err != nil {
			return 0, nil, err
		}
		c := admin.MailboxChange{DisplayName: p.DisplayName, SMTPAuth: p.SMTPAuth, IMAP: p.IMAP, SaveSent: p.SaveSent, CopySentAs: p.CopySentAs,
			CopySentOnBehalf: p.CopySentOnBehalf, QuotaBytes: p.QuotaBytes, Networks: p.Networks, Limits: p.Limits.change()}
		if p.SentRetention != nil {
			var d time.Duration
			if *p.SentRetention != "" {
				var err error
				if d, err = duration("sent_retention", *p.SentRetention); err != nil {
					return 0, nil, err
				}
			}
			c.SentRetention = &d
		}
		m, err := a.SetMailbox(r.Context(), r.PathValue("address"), c)
		return http.StatusOK, mailboxView(m), err
	}
}

func removeMailbox(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, a.RemoveMailbox(r.Context(), r.PathValue("address"))
	}
}

func setPassword(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var req struct {
			Password string `json:"password"` // empty: one is generated and returned
		}
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		pw, err := a.SetPassword(r.Context(), r.PathValue("address"), req.Password)
		return http.StatusOK, struct {
			GeneratedPassword string `json:"generated_password,omitempty"`
		}{pw}, err
	}
}

func mailboxUsage(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		addr := r.PathValue("address")
		st, err := a.LimitStatus(r.Context(), addr, time.Now())
		if err != nil {
			return 0, nil, err
		}
		storage, err := a.Usage(r.Context(), addr)
		if err != nil {
			return 0, nil, err
		}
		m, _ := a.Mailbox(r.Context(), addr)
		return http.StatusOK, usageView(m.Address, st, storage), nil
	}
}

func listAliases(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		as, err := a.Aliases(r.Context(), r.PathValue("address"))
		return http.StatusOK, nonNil(as), err
	}
}

func addAlias(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var req struct {
			Alias string `json:"alias"`
		}
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		al, err := a.AddAlias(r.Context(), r.PathValue("address"), req.Alias)
		return http.StatusCreated, struct {
			Alias string `json:"alias"`
		}{al}, err
	}
}

func removeAlias(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, a.RemoveAlias(r.Context(), r.PathValue("address"), r.PathValue("alias"))
	}
}

func listAppPasswords(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		ps, err := a.AppPasswords(r.Context(), r.PathValue("address"))
		return http.StatusOK, mapList(ps, appPasswordView), err
	}
}

func addAppPassword(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var req struct {
			Label    string   `json:"label"`
			Networks []string `json:"networks"`
		}
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		p, secret, err := a.AddAppPassword(r.Context(), admin.NewAppPassword{Mailbox: r.PathValue("address"), Label: req.Label, Networks: req.Networks})
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, struct {
			AppPassword appPasswordJSON `json:"app_password"`
			Password    string          `json:"password"` // shown once
		}{appPasswordView(p), secret}, nil
	}
}

func revokeAppPassword(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		return http.StatusNoContent, nil, a.RevokeAppPassword(r.Context(), r.PathValue("address"), r.PathValue("label"))
	}
}

func listGrants(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		q := r.URL.Query()
		gs, err := a.Grants(r.Context(), q.Get("on"), q.Get("to"))
		return http.StatusOK, mapList(gs, grantView), err
	}
}

// grantSpec is the body of POST /grants and the query of DELETE /grants.
type grantSpec struct {
	Kind string `json:"kind"` // send-as, send-on-behalf or full-access
	On   string `json:"on"`   // an address, or @domain
	To   string `json:"to"`   // the mailbox given the right
}

func addGrant(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var g grantSpec
		if err := decode(r, &g); err != nil {
			return 0, nil, err
		}
		out, err := a.AddGrant(r.Context(), admin.GrantSpec{Kind: g.Kind, On: g.On, To: g.To})
		return http.StatusCreated, grantView(out), err
	}
}

func revokeGrant(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		q := r.URL.Query()
		return http.StatusNoContent, nil, a.RevokeGrant(r.Context(), admin.GrantSpec{Kind: q.Get("kind"), On: q.Get("on"), To: q.Get("to")})
	}
}

func listOAuthClients(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		cs, err := a.OAuthClients(r.Context())
		return http.StatusOK, mapList(cs, oauthClientView), err
	}
}

func addOAuthClient(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		var req struct {
			Issuer    string   `json:"issuer"`
			ClientID  string   `json:"client_id"`
			Mailboxes []string `json:"mailboxes"`
		}
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		c, err := a.AddOAuthClient(r.Context(), admin.OAuthClientSpec{Issuer: req.Issuer, ClientID: req.ClientID, Mailboxes: req.Mailboxes})
		return http.StatusCreated, oauthClientView(c), err
	}
}

// removeOAuthClient takes the client's mailboxes named by mailbox
// parameters, or with none the client.
func removeOAuthClient(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		q := r.URL.Query()
		return http.StatusNoContent, nil, a.RemoveOAuthClient(r.Context(),
			admin.OAuthClientSpec{Issuer: q.Get("issuer"), ClientID: q.Get("client_id"), Mailboxes: q["mailbox"]})
	}
}

func listQueue(a *admin.Service) handler {
	return func(r *http.Request) (int, any, error) {
		limit, err := queryLimit(r, maxList)
		if err != nil {
			return 0, nil, err
		}
		q := r.URL.Query()
		state := q.Get("state")
		if state == "" {
			state = "all"
		}
		es, err := a.Queue(r.Context(), state, q.Get("queue_id"), limit)
		return http.StatusOK, mapList(es, queueView), err
	}
}

// queueChange is the body of POST /queue/retry and /queue/drop.
type queueChange struct {
	QueueID   string `json:"queue_id"`
	Recipient string `json:"recipient"`
	All       bool   `json:"all"`
}

func changeQueue(a *admin.Service, drop bool) handler {
	return func(r *http.Request) (int, any, error) {
		var c queueChange
		if err := decode(r, &c); err != nil {
			return 0, nil, err
		}
		sel := admin.QueueSelection{ID: c.QueueID, Recipient: c.Recipient, All: c.All}
		var n int
		var err error
		if drop {
			n, err = a.DropQueue(r.Context(), sel)
		} else {
			n, err = a.RetryQueue(r.Context(), sel)
		}
		return http.StatusOK, struct {
			Changed int `json:"changed"`
		}{n}, err
	}
}

func retryQueue(a *admin.Service) handler { return changeQueue(a, false) }
func dropQueue(a *admin.Service) handler  { return changeQueue(a, true) }
