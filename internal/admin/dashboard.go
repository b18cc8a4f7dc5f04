package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"mailroom/internal/limits"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// Dashboard is the console's overview of the last 24 hours, read from the
// trace and the submission log.
type Dashboard struct {
	// Hours are 24 one-hour buckets, oldest first, the last ending at now.
	Hours []HourCount
	// Accepted, Refused and Deferred total the buckets.
	Accepted, Refused, Deferred int
	// TopReasons are the most frequent refusal reasons, most frequent first.
	TopReasons []ReasonCount
	// NearLimits are the mailboxes using 80 % or more of a rate or daily
	// limit, or with every concurrency slot taken.
	NearLimits []NearLimit
	// Failed counts the recipients whose delivery failed (a DSN went to
	// the sender); Failures are the most recent of them, newest first.
	Failed   int
	Failures []Failure
}

// Failure is one recipient whose delivery failed for good.
type Failure struct {
	At        time.Time
	QueueID   string
	Sender    string // "" for a notice
	Recipient string
	// Reply is the last reply, "550 5.1.1 ...", as the remote host (or
	// mailroom) gave it.
	Reply  string
	Remote string
}

// dashboardFailures bounds the failures a dashboard lists.
const dashboardFailures = 20

// HourCount is one hour of the dashboard's chart.
type HourCount struct {
	Start                       time.Time
	Accepted, Refused, Deferred int
}

// ReasonCount is how often a refusal reason occurred.
type ReasonCount struct {
	Reason string
	Count  int
}

// NearLimit is a mailbox close to one of its limits.
type NearLimit struct {
	Mailbox string
	Status  LimitStatus
	// Limit names the limit closest to being reached: "recipients_per_day",
	// "messages_per_minute" or "concurrent"; Percent how much of it is used.
	Limit   string
	Percent int
}

// dashboardEvents bounds the events one dashboard reads per status.
const dashboardEvents = 200000

// Dashboard computes the overview of the 24 hours before now.
func (s *Service) Dashboard(ctx context.Context, now time.Time) (Dashboard, error) {
	var d Dashboard
	start := now.Add(-24 * time.Hour)
	d.Hours = make([]HourCount, 24)
	for i := range d.Hours {
		d.Hours[i].Start = start.Add(time.Duration(i) * time.Hour)
	}
	reasons := map[string]int{}
	var err error
	for _, status := range []string{trace.StatusAccepted, trace.StatusRefused, trace.StatusDeferred} {
		var evs []store.TraceEvent
		evs, err = s.st.SearchTrace(ctx, store.TraceFilter{Status: status, Since: start, Limit: dashboardEvents})
		if err != nil {
			return d, err
		}
		for _, e := range evs {
			i := int(e.At.Sub(start) / time.Hour)
			if i < 0 || i >= 24 {
				continue
			}
			switch status {
			case trace.StatusAccepted:
				d.Hours[i].Accepted++
				d.Accepted++
			case trace.StatusRefused:
				d.Hours[i].Refused++
				d.Refused++
				reasons[e.Reason]++
			case trace.StatusDeferred:
				d.Hours[i].Deferred++
				d.Deferred++
			}
		}
	}
	for r, n := range reasons {
		d.TopReasons = append(d.TopReasons, ReasonCount{r, n})
	}
	sort.Slice(d.TopReasons, func(i, j int) bool {
		a, b := d.TopReasons[i], d.TopReasons[j]
		return a.Count > b.Count || a.Count == b.Count && a.Reason < b.Reason
	})
	if len(d.TopReasons) > 8 {
		d.TopReasons = d.TopReasons[:8]
	}
	if d.Failed, d.Failures, err = s.failures(ctx, start); err != nil {
		return d, err
	}
	if d.NearLimits, err = s.nearLimits(ctx, now); err != nil {
		return d, err
	}
	sort.Slice(d.NearLimits, func(i, j int) bool { return d.NearLimits[i].Percent > d.NearLimits[j].Percent })
	return d, nil
}

// failures counts the failed deliveries since start and returns the
// newest dashboardFailures of them.
func (s *Service) failures(ctx context.Context, start time.Time) (int, []Failure, error) {
	evs, err := s.st.SearchTrace(ctx, store.TraceFilter{Status: trace.StatusFailed, Since: start, Limit: dashboardEvents})
	if err != nil {
		return 0, nil, err
	}
	n := 0
	var out []Failure
	for _, e := range evs {
		if e.Kind != trace.KindDelivery || e.At.Before(start) {
			continue
		}
		n++
		f := Failure{At: e.At, QueueID: e.QueueID, Sender: e.Sender, Remote: e.Remote,
			Reply: strings.TrimSpace(fmt.Sprintf("%d %s %s", e.Code, e.Enhanced, e.Text))}
		if len(e.Recipients) > 0 {
			f.Recipient = e.Recipients[0]
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	if len(out) > dashboardFailures {
		out = out[:dashboardFailures]
	}
	return n, out, nil
}

// nearLimits finds the mailboxes at 80 % or more of a limit. It reads the
// submission log, the domains and the live usage once for all mailboxes
// (LimitStatus per mailbox would read the log once each).
func (s *Service) nearLimits(ctx context.Context, now time.Time) ([]NearLimit, error) {
	mbs, err := s.st.Mailboxes(ctx, "")
	if err != nil {
		return nil, err
	}
	doms, err := s.st.Domains(ctx)
	if err != nil {
		return nil, err
	}
	domLimits := make(map[string]store.Limits, len(doms))
	for _, d := range doms {
		domLimits[d.Name] = d.Limits
	}
	recs, err := s.st.SubmissionLog(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return nil, err
	}
	usage := make(map[int64]*limits.Usage)
	for _, r := range recs {
		u := usage[r.MailboxID]
		if u == nil {
			u = &limits.Usage{}
			usage[r.MailboxID] = u
		}
		u.RecipientsLast24 += r.Recipients
		if r.At.After(now.Add(-time.Minute)) {
			u.MessagesLastMin += max(r.Messages, 1)
		}
	}
	var live LiveUsage
	if b, err := os.ReadFile(filepath.Join(s.DataDir, UsageFile)); err == nil && json.Unmarshal(b, &live) == nil && now.Sub(live.At) < UsageFresh {
		for id, n := range live.InFlight {
			if usage[id] == nil {
				usage[id] = &limits.Usage{}
			}
			usage[id].InFlight = n
		}
	}
	var out []NearLimit
	for _, m := range mbs {
		u := usage[m.ID]
		if m.Shared || u == nil {
			continue
		}
		st := LimitStatus{Effective: limits.Effective(s.Limits, domLimits[m.Domain], m.Limits), Usage: *u, Live: live.InFlight != nil}
		n := NearLimit{Mailbox: m.Address, Status: st}
		for _, l := range []struct {
			name      string
			used, max int
		}{
			{"recipients_per_day", u.RecipientsLast24, st.Effective.RecipientsPerDay},
			{"messages_per_minute", u.MessagesLastMin, st.Effective.MessagesPerMinute},
			{"concurrent", u.InFlight, st.Effective.Concurrent},
		} {
			if l.max > 0 && l.used*100/l.max > n.Percent {
				n.Limit, n.Percent = l.name, l.used*100/l.max
			}
		}
		if n.Percent >= 80 {
			out = append(out, n)
		}
	}
	return out, nil
}
