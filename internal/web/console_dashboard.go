package web

import (
	"net/http"
	"strconv"
	"time"

	"mailroom/internal/admin"
)

// The dashboard and a mailbox's activity: hourly bar charts drawn as SVG
// on the server. Each bar carries its hour as a UTC timestamp; the page
// shows it in UTC, and console.js rewrites it in the viewer's time zone
// and says which zone that is.

// chartSeg is one coloured part of a stacked bar, in SVG units.
type chartSeg struct {
	Y, H  int
	Class string // acc, ref, def or fail (console.css colours)
}

// chartBar is one hour of a chart.
type chartBar struct {
	X, W  int
	Segs  []chartSeg
	Start string // the hour's start, RFC 3339 UTC (console.js reads it)
	Label string // its start as HH:MM UTC; "" when the axis skips it
	Title string // what the bar counts, without the hour
}

// hourChart is a chart's data: bars, the peak they are scaled to, and
// the series shown.
type hourChart struct {
	Bars   []chartBar
	Peak   int
	Series []chartSeries
}

// chartSeries names one colour of a chart.
type chartSeries struct{ Class, Name string }

const (
	chartH = 120 // height of the bars' area in SVG units
	// chartLabelEvery labels every third hour, so that labels never
	// overlap when the chart shrinks to a phone's width.
	chartLabelEvery = 3
)

// hourLabel is how a chart labels the hour starting at t, in UTC (the
// page says so; console.js relabels in the viewer's zone).
func hourLabel(t time.Time) string { return t.UTC().Format("15:04") }

// newHourChart draws hours with the series count picks from each.
func newHourChart(hours []admin.HourCount, series []chartSeries, count func(admin.HourCount) []int) hourChart {
	c := hourChart{Peak: 1, Series: series}
	for _, h := range hours {
		sum := 0
		for _, n := range count(h) {
			sum += n
		}
		c.Peak = max(c.Peak, sum)
	}
	for i, h := range hours {
		b := chartBar{X: 30 + i*22, W: 18, Start: h.Start.UTC().Format(time.RFC3339)}
		if i%chartLabelEvery == (len(hours)-1)%chartLabelEvery { // the current hour is labelled
			b.Label = hourLabel(h.Start)
		}
		y := chartH
		for j, n := range count(h) {
			seg := chartSeg{H: n * chartH / c.Peak, Class: series[j].Class}
			y -= seg.H
			seg.Y = y
			b.Segs = append(b.Segs, seg)
			if j > 0 {
				b.Title += ", "
			}
			b.Title += strconv.Itoa(n) + " " + series[j].Name
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

func (c *console) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.page(r, s, "Dashboard", "dashboard")
	d, err := c.a.Dashboard(r.Context(), c.now())
	if err != nil {
		c.fail(w, "dashboard", p, err)
		return
	}
	chart := newHourChart(d.Hours, []chartSeries{{"acc", "accepted"}, {"ref", "refused"}, {"def", "deferred"}, {"fail", "failed"}},
		func(h admin.HourCount) []int { return []int{h.Accepted, h.Refused, h.Deferred, h.Failed} })
	p.Data = struct {
		D     admin.Dashboard
		Chart hourChart
	}{d, chart}
	c.render(w, http.StatusOK, "dashboard", p)
}

// activity is one mailbox's chart: its accepted messages and refused
// submission attempts per hour.
func (c *console) activity(w http.ResponseWriter, r *http.Request, s *session) {
	addr := r.PathValue("address")
	p := c.page(r, s, "Activity of "+addr, "mailboxes")
	hours, err := c.a.MailboxActivity(r.Context(), addr, c.now())
	acc, ref := 0, 0
	for _, h := range hours {
		acc, ref = acc+h.Accepted, ref+h.Refused
	}
	p.Data = struct {
		Mailbox           string
		Accepted, Refused int
		Chart             hourChart
	}{addr, acc, ref, newHourChart(hours, []chartSeries{{"acc", "accepted"}, {"ref", "refused"}},
		func(h admin.HourCount) []int { return []int{h.Accepted, h.Refused} })}
	if err != nil {
		c.fail(w, "activity", p, err)
		return
	}
	c.render(w, http.StatusOK, "activity", p)
}
