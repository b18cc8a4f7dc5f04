package web

import (
	"testing"
	"time"

	"mailroom/internal/admin"
)

// TestHourChart_Labels: each bar is labelled with the hour (UTC) its
// bucket starts at, every third hour ending with the current one, and
// carries that start for console.js to relabel in the viewer's zone; an
// event at 10:41 seen at 11:45 is drawn in the bar labelled 10:00, never
// in one labelled 09h.
func TestHourChart_Labels(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 45, 10, 0, time.FixedZone("CET", 3600)) // 11:45:10 UTC
	starts := admin.HourStarts(now)
	hours := make([]admin.HourCount, len(starts))
	for i, s := range starts {
		hours[i].Start = s
	}
	event := time.Date(2026, 11, 30, 10, 41, 0, 0, time.UTC)
	for i := range hours {
		if !event.Before(hours[i].Start) && event.Before(hours[i].Start.Add(time.Hour)) {
			hours[i].Accepted = 2
		}
	}
	c := newHourChart(hours, []chartSeries{{"acc", "accepted"}, {"ref", "refused"}},
		func(h admin.HourCount) []int { return []int{h.Accepted, h.Refused} })
	if len(c.Bars) != admin.DashboardHours || c.Peak != 2 {
		t.Fatalf("%d bars, peak %d", len(c.Bars), c.Peak)
	}
	last, prev := c.Bars[len(c.Bars)-1], c.Bars[len(c.Bars)-2]
	if last.Label != "11:00" || last.Start != "2026-11-30T11:00:00Z" {
		t.Errorf("current hour: label %q start %q; want 11:00, 2026-11-30T11:00:00Z", last.Label, last.Start)
	}
	if prev.Start != "2026-11-30T10:00:00Z" || prev.Title != "2 accepted, 0 refused" || prev.Segs[0].H != chartH {
		t.Errorf("the hour of the event: %+v", prev)
	}
	for i, b := range c.Bars {
		labelled := (len(c.Bars)-1-i)%chartLabelEvery == 0
		if (b.Label != "") != labelled || labelled && b.Label != b.Start[11:16] {
			t.Errorf("bar %d (%s): label %q", i, b.Start, b.Label)
		}
	}
}
