package admin_test

import (
	"context"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// TestDashboard_CountsAndNearLimits: accepted and refused submissions are
// counted in the current hour with the refusal's reason, and a mailbox
// that used its daily recipients is listed near its limits.
func TestDashboard_CountsAndNearLimits(t *testing.T) {
	const pw = "correct-horse-battery"
	s := testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		for _, m := range []admin.NewMailbox{{Address: "app@example.test", Password: pw}, {Address: "bob@example.test", Password: pw}, {Address: "support@example.test", Shared: true}} {
			_, _, err = a.AddMailbox(ctx, m)
			testkit.MustAdd(t, err)
		}
		two := 2
		_, err = a.SetMailbox(ctx, "app@example.test", admin.MailboxChange{Limits: admin.LimitChange{RecipientsPerDay: &two}})
		testkit.MustAdd(t, err)
	})
	for range 2 {
		s.Send("app@example.test", pw, "app@example.test", []string{"bob@example.test"}, "From: app@example.test\r\nSubject: x\r\n\r\nx\r\n")
	}
	c := testkit.Ready(t, s, "app@example.test", pw)
	c.MustCmd("MAIL FROM:<support@example.test>", 550, "5.7.60")
	c.Close()
	s.Daemon.FlushTrace()

	d, err := s.Admin.Dashboard(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	last := d.Hours[len(d.Hours)-1]
	if d.Accepted != 2 || d.Refused != 1 || last.Accepted != 2 || last.Refused != 1 {
		t.Fatalf("counts: accepted %d refused %d, last hour %+v", d.Accepted, d.Refused, last)
	}
	if len(d.TopReasons) != 1 || d.TopReasons[0] != (admin.ReasonCount{Reason: "send_as_denied", Count: 1}) {
		t.Fatalf("top reasons %+v", d.TopReasons)
	}
	if len(d.NearLimits) != 1 || d.NearLimits[0].Mailbox != "app@example.test" || d.NearLimits[0].Limit != "recipients_per_day" || d.NearLimits[0].Percent != 100 {
		t.Fatalf("near limits %+v", d.NearLimits)
	}
}

// TestDashboard_BucketIsTheHourShown: the console labels a bucket with the
// hour its Start is in, so an event at 10:41 must be counted in the bucket
// starting at 10:00. Buckets that started at now-24h (not on a whole hour)
// counted 10:41 under a bucket starting at 09:45, labelled "09h".
func TestDashboard_BucketIsTheHourShown(t *testing.T) {
	const pw = "correct-horse-battery"
	s := testkit.Start(t, func(a *admin.Service) {
		_, err := a.AddDomain(context.Background(), "example.test")
		testkit.MustAdd(t, err)
		_, _, err = a.AddMailbox(context.Background(), admin.NewMailbox{Address: "app@example.test", Password: pw})
		testkit.MustAdd(t, err)
	})
	c := testkit.Ready(t, s, "app@example.test", pw)
	c.MustCmd("MAIL FROM:<nobody@elsewhere.test>", 550, "5.7.60")
	c.Close()
	s.Daemon.FlushTrace()
	evs, err := s.Store.SearchTrace(context.Background(), store.TraceFilter{Status: "refused", Limit: 1})
	if err != nil || len(evs) != 1 {
		t.Fatalf("trace of the refusal: %+v %v", evs, err)
	}
	at := evs[0].At
	// Seen 64 minutes later: the event is in the hour before the current one.
	d, err := s.Admin.Dashboard(context.Background(), at.Add(64*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range d.Hours {
		if h.Refused == 0 {
			continue
		}
		if want := at.UTC().Truncate(time.Hour); !h.Start.Equal(want) {
			t.Fatalf("refusal at %s counted in the bucket starting %s; want the one starting %s", at.UTC().Format("15:04:05"), h.Start.UTC().Format("15:04:05"), want.Format("15:04:05"))
		}
		return
	}
	t.Fatalf("refusal at %s in no bucket: %+v", at, d.Hours)
}

// TestHourStarts: whole hours, the last one holding now, and each event
// in the bucket of its hour.
func TestHourStarts(t *testing.T) {
	now := time.Date(2026, 11, 30, 11, 45, 10, 0, time.UTC)
	hs := admin.HourStarts(now)
	if len(hs) != admin.DashboardHours || !hs[len(hs)-1].Equal(time.Date(2026, 11, 30, 11, 0, 0, 0, time.UTC)) ||
		!hs[0].Equal(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("hour starts %v … %v", hs[0], hs[len(hs)-1])
	}
	// In another zone the same instants: a chart is the same everywhere.
	paris := time.FixedZone("CET", 3600)
	if got := admin.HourStarts(now.In(paris)); !got[0].Equal(hs[0]) {
		t.Fatalf("zone changed the buckets: %v", got[0])
	}
}
