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
	// Hours are the DashboardHours one-hour buckets, oldest first, each
	// starting on a whole hour (UTC); the last holds now.
	Hours []HourCount
	// Accepted counts accepted messages; Refused refused submission
	// attempts (each refused command); Deferred the messages with at least
	// one deferred delivery attempt, however many attempts they had.
	Accepted, Refused, Deferred int
	// FailedMessages counts the messages with a recipient whose delivery
	// failed in the period (Failed counts those recipients).
	FailedMessages int
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

// HourCount is one hour of the dashboard's chart: from Start (a whole
// hour) to an hour later. Accepted, Deferred and Failed count messages
// (a message deferred three times in the hour counts once); Refused
// counts refused submission attempts.
type HourCount struct {
	Start                               time.Time
	Accepted, Refused, Deferred, Failed int
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

// DashboardHours is how many hourly buckets a chart has: the current
// hour and the 23 before it.
const DashboardHours = 24

// HourStarts returns the starts of the DashboardHours buckets of a chart
// ending at now, oldest first: whole hours, the last the hour now is in.
// A bucket is labelled with its start, so an event at 10:41 is counted
// under 10:00, never under a bucket that began at 09:45.
func HourStarts(now time.Time) []time.Time {
	last := now.UTC().Truncate(time.Hour)
	out := make([]time.Time, DashboardHours)
	for i := range out {
		out[i] = last.Add(time.Duration(i-DashboardHours+1) * time.Hour)
	}
	return out
}

// hourIndex is the bucket of starts that at falls in, or -1.
func hourIndex(starts []time.Time, at time.Time) int {
	if at.Before(starts[0]) {
		return -1
	}
	if i := int(at.Sub(starts[0]) / time.Hour); i < len(starts) {
		return i
	}
	return -1
}

// Dashboard computes the overview of the DashboardHours hours up to now.
func (s *Service) Dashboard(ctx context.Context, now time.Time) (Dashboard, error) {
	var d Dashboard
	act, err := s.activity(ctx, "", now, true)
	if err != nil {
		return d, err
	}
	d.Hours = act.hours
	d.Accepted, d.Refused, d.Deferred, d.FailedMessages = act.accepted, act.refused, act.deferred, act.failed
	for r, n := range act.reasons {
		d.TopReasons = append(d.TopReasons, ReasonCount{r, n})
	}
	sort.Slice(d.TopReasons, func(i, j int) bool {
		a, b := d.TopReasons[i], d.TopReasons[j]
		return a.Count > b.Count || a.Count == b.Count && a.Reason < b.Reason
	})
	if len(d.TopReasons) > 8 {
		d.TopReasons = d.TopReasons[:8]
	}
	start := d.Hours[0].Start
	if d.Failed, d.Failures, err = s.failures(ctx, start); err != nil {
		return d, err
	}
	if d.NearLimits, err = s.nearLimits(ctx, now); err != nil {
		return d, err
	}
	sort.Slice(d.NearLimits, func(i, j int) bool { return d.NearLimits[i].Percent > d.NearLimits[j].Percent })
	return d, nil
}

// MailboxActivity is the hourly chart of one mailbox (the DashboardHours
// up to now): messages it submitted that were accepted, and its refused
// submission attempts.
func (s *Service) MailboxActivity(ctx context.Context, addr string, now time.Time) ([]HourCount, error) {
	m, err := s.Mailbox(ctx, addr)
	if err != nil {
		return nil, err
	}
	act, err := s.activity(ctx, m.Address, now, false)
	return act.hours, err
}

// activity is what a chart counts from the trace.
type activity struct {
	hours                               []HourCount
	accepted, refused, deferred, failed int
	reasons                             map[string]int
}

// activity counts the trace's events per hour, of one mailbox's
// submissions unless mailbox is "", with deliveries (deferred, failed)
// when withDelivery. Each status reads at most dashboardEvents events.
func (s *Service) activity(ctx context.Context, mailbox string, now time.Time, withDelivery bool) (activity, error) {
	starts := HourStarts(now)
	a := activity{hours: make([]HourCount, len(starts)), reasons: map[string]int{}}
	for i := range a.hours {
		a.hours[i].Start = starts[i]
	}
	statuses := []string{trace.StatusAccepted, trace.StatusRefused}
	if withDelivery {
		statuses = append(statuses, trace.StatusDeferred, trace.StatusFailed)
	}
	type hourMsg struct {
		hour int
		id   string
	}
	for _, status := range statuses {
		evs, err := s.st.SearchTrace(ctx, store.TraceFilter{Status: status, Mailbox: mailbox, Since: starts[0], Limit: dashboardEvents})
		if err != nil {
			return a, err
		}
		seen := map[hourMsg]bool{} // a message once per hour
		total := map[string]bool{} // and once in the totals
		for _, e := range evs {
			i := hourIndex(starts, e.At)
			if i < 0 {
				continue
			}
			h := &a.hours[i]
			switch status {
			case trace.StatusAccepted:
				h.Accepted++
				a.accepted++
			case trace.StatusRefused:
				h.Refused++
				a.refused++
				a.reasons[e.Reason]++
			case trace.StatusDeferred, trace.StatusFailed:
				if e.Kind != trace.KindDelivery {
					continue
				}
				first := !seen[hourMsg{i, e.QueueID}]
				seen[hourMsg{i, e.QueueID}] = true
				if status == trace.StatusDeferred && first {
					h.Deferred++
				} else if first {
					h.Failed++
				}
				if !total[e.QueueID] {
					total[e.QueueID] = true
					if status == trace.StatusDeferred {
						a.deferred++
					} else {
						a.failed++
					}
				}
			}
		}
	}
	return a, nil
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
