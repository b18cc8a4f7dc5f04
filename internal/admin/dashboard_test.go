package admin_test

import (
	"context"
	"testing"
	"time"

	"mailroom/internal/admin"
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
