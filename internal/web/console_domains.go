package web

import (
	"net/http"
	"net/url"
	"strings"

	"mailroom/internal/admin"
	"mailroom/internal/dnscheck"
	"mailroom/internal/store"
	"mailroom/internal/unit"
)

// The domains pages: the list with its add form, and one domain's page
// with its role, display-name policy, networks, limits, DKIM keys with the
// records to publish, the doctor's verdicts on demand, and removal.

// domainRow is one line of the domains list.
type domainRow struct {
	D         store.Domain
	Mailboxes int
	DKIMKeys  int
}

func (c *console) domains(w http.ResponseWriter, r *http.Request, s *session) {
	c.showDomains(w, r, c.page(r, s, "Domains", "domains"), http.StatusOK)
}

func (c *console) showDomains(w http.ResponseWriter, r *http.Request, p page, status int) {
	ctx := r.Context()
	ds, err := c.a.Domains(ctx)
	if err != nil {
		c.fail(w, "domains", p, err)
		return
	}
	mbs, err := c.a.Mailboxes(ctx, "")
	if err != nil {
		c.fail(w, "domains", p, err)
		return
	}
	count := map[string]int{}
	for _, m := range mbs {
		count[m.Domain]++
	}
	rows := make([]domainRow, 0, len(ds))
	for _, d := range ds {
		keys, err := c.a.DKIMRecords(ctx, d.Name)
		if err != nil {
			c.fail(w, "domains", p, err)
			return
		}
		rows = append(rows, domainRow{d, count[d.Name], len(keys)})
	}
	p.Data = rows
	c.render(w, status, "domains", p)
}

func (c *console) addDomain(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := c.a.AddDomainWithRole(r.Context(), r.PostFormValue("name"), r.PostFormValue("role"))
	if err != nil {
		p := c.page(r, s, "Domains", "domains")
		p.Error = err.Error()
		c.showDomains(w, r, p, c.status("domains", err))
		return
	}
	c.log.Info("console domain add", "user", s.user, "domain", d.Name, "role", d.Role)
	back(w, r, "/domains/"+url.PathEscape(d.Name), "Domain "+d.Name+" added ("+d.Role+"). Give it DKIM keys and check its DNS below.")
}

// domainPage is the data of one domain's page.
type domainPage struct {
	D         store.Domain
	Limits    []admin.EffectiveLimit
	Mailboxes []store.Mailbox
	DKIM      []admin.DKIMRecord
	// Checks are the doctor's verdicts, when it was run.
	Checks    []dnscheck.Check
	Ran       bool
	CanDoctor bool
}

func (c *console) domain(w http.ResponseWriter, r *http.Request, s *session) {
	c.showDomain(w, r, c.page(r, s, "Domain", "domains"), http.StatusOK, nil)
}

// showDomain renders the domain's page; checks, when not nil, are the
// doctor's verdicts to show.
func (c *console) showDomain(w http.ResponseWriter, r *http.Request, p page, status int, checks []dnscheck.Check) {
	ctx := r.Context()
	d, err := c.a.Domain(ctx, r.PathValue("name"))
	if err != nil {
		c.fail(w, "domain", p, err)
		return
	}
	dp := domainPage{D: d, Limits: admin.EffectiveLimits(c.a.Limits, d.Limits, store.Limits{}), Checks: checks, Ran: checks != nil, CanDoctor: c.a.DNS != nil}
	if dp.Mailboxes, err = c.a.Mailboxes(ctx, d.Name); err == nil {
		dp.DKIM, err = c.a.DKIMRecords(ctx, d.Name)
	}
	if err != nil {
		c.fail(w, "domain", p, err)
		return
	}
	p.Title, p.Data = d.Name, dp
	c.render(w, status, "domain", p)
}

// domainFailed shows the domain's page with admin's refusal.
func (c *console) domainFailed(w http.ResponseWriter, r *http.Request, s *session, err error) {
	p := c.page(r, s, "Domain", "domains")
	p.Error = err.Error()
	c.showDomain(w, r, p, c.status("domain", err), nil)
}

func (c *console) setDomain(w http.ResponseWriter, r *http.Request, s *session) {
	f := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	dn, role, nets := f("display_name"), f("role"), formList(f("networks"))
	ch := admin.DomainChange{DisplayName: &dn, Role: &role, Networks: &nets}
	err := formLimits(r, &ch.Limits)
	if err == nil {
		_, err = c.a.SetDomain(r.Context(), r.PathValue("name"), ch)
	}
	if err != nil {
		c.domainFailed(w, r, s, err)
		return
	}
	c.log.Info("console domain set", "user", s.user, "domain", r.PathValue("name"))
	back(w, r, "/domains/"+url.PathEscape(r.PathValue("name")), "Settings saved.")
}

func (c *console) addDKIM(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	recs, created, err := c.a.AddDKIM(r.Context(), name, strings.TrimSpace(r.PostFormValue("selector")))
	if err != nil {
		c.domainFailed(w, r, s, err)
		return
	}
	msg := "These keys exist already; their records are below."
	if created {
		c.log.Info("console dkim add", "user", s.user, "domain", name, "keys", len(recs))
		msg = "DKIM keys created: publish their TXT records below; mail is signed with them from now on."
	}
	back(w, r, "/domains/"+url.PathEscape(name), msg)
}

func (c *console) doctor(w http.ResponseWriter, r *http.Request, s *session) {
	checks, err := c.a.CheckDomain(r.Context(), r.PathValue("name"))
	if err != nil {
		c.domainFailed(w, r, s, err)
		return
	}
	p := c.page(r, s, "Domain", "domains")
	problems := 0
	for _, ch := range checks {
		if ch.Problem() {
			problems++
		}
	}
	if problems == 0 {
		p.Flash = "DNS checked: nothing to fix."
	} else {
		p.Error = "DNS checked: " + unit.Count(int64(problems), "record needs", "records need") + " fixing; each says what to publish."
	}
	if checks == nil {
		checks = []dnscheck.Check{}
	}
	c.showDomain(w, r, p, http.StatusOK, checks)
}

func (c *console) removeDomain(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PathValue("name")
	if err := c.a.RemoveDomain(r.Context(), name); err != nil {
		c.domainFailed(w, r, s, err)
		return
	}
	c.log.Info("console domain remove", "user", s.user, "domain", name)
	back(w, r, "/domains", "Domain "+name+" removed, with its DKIM keys.")
}

// formLimits reads the four limit fields of a settings form into l; an
// empty field inherits (0).
func formLimits(r *http.Request, l *admin.LimitChange) error {
	for _, f := range []struct {
		name, what string
		dst        **int
	}{{"concurrent", "concurrent transactions", &l.Concurrent}, {"messages_per_minute", "messages per minute", &l.MessagesPerMinute},
		{"recipients_per_message", "recipients per message", &l.RecipientsPerMessage}, {"recipients_per_day", "recipients per 24 hours", &l.RecipientsPerDay}} {
		n, err := formInt(strings.TrimSpace(r.PostFormValue(f.name)), f.what)
		if err != nil {
			return err
		}
		*f.dst = &n
	}
	return nil
}
