package web

import (
	"fmt"
	"net/http"
	"net/url"

	"mailroom/internal/admin"
)

// The console's trace: the list of submission attempts (GET /trace, the
// API's query parameters) and one attempt (GET /trace/{id}).

// traceList is the data of trace.html.
type traceList struct {
	Q        admin.TraceQuery
	Since    string
	Until    string
	Statuses []string
	Page     admin.AttemptPage
	// NextURL is the link to the next (older) page: this search with its
	// cursor; FirstURL the search without one.
	NextURL, FirstURL string
}

func (c *console) trace(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Trace", "trace")
	v := r.URL.Query()
	d := traceList{Since: v.Get("since"), Until: v.Get("until"), Statuses: admin.AttemptStatuses}
	if d.Since == "" {
		d.Since = "1d"
	}
	q, err := traceQuery(v, d.Since)
	d.Q = q
	if err == nil {
		d.Page, err = c.a.TraceAttempts(r.Context(), q, c.now())
	}
	if d.Page.Next != "" {
		next := cloneValues(v)
		next.Set("cursor", d.Page.Next)
		d.NextURL = "/trace?" + next.Encode()
	}
	if q.Cursor != "" {
		first := cloneValues(v)
		first.Del("cursor")
		d.FirstURL = "/trace?" + first.Encode()
	}
	p.Data = d
	if err != nil {
		c.fail(w, "trace", p, err)
		return
	}
	c.render(w, http.StatusOK, "trace", p)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if k != "flash" {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}

func (c *console) traceAttempt(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Trace", "trace")
	id, err := attemptID(r)
	var d admin.AttemptDetail
	if err == nil {
		d, err = c.a.TraceAttempt(r.Context(), id)
	}
	p.Data = d
	if err != nil {
		c.fail(w, "trace_attempt", p, err)
		return
	}
	p.Title = fmt.Sprintf("Trace: attempt %d, %s", d.ID, d.Status)
	c.render(w, http.StatusOK, "trace_attempt", p)
}
