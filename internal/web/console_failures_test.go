package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// TestConsole_DashboardFailedDeliveries: a recipient refused for good by
// the remote host is counted and listed on the dashboard with the remote
// reply and a link to its trace; a delivered one is not.
func TestConsole_DashboardFailedDeliveries(t *testing.T) {
	const pw = consolePW
	r := testkit.NewRemote(t)
	r.MX(t, "remote.test", testkit.MXOptions{Rcpt: func(rcpt string) *smtp.SMTPError {
		if rcpt == "gone@remote.test" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	s := startConsole(t, nil, testkit.WithRemote(r))
	id := s.Send("app@example.test", pw, "app@example.test", []string{"gone@remote.test", "bob@remote.test"}, "Subject: x\r\n\r\nx\r\n")
	testkit.Eventually(t, "one recipient failed, one delivered", func() bool {
		st := s.QueueStates(id)
		return st["gone@remote.test"] == store.StateFailed && st["bob@remote.test"] == store.StateDelivered
	})
	s.Daemon.FlushTrace()

	d, err := s.Admin.Dashboard(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.Failed != 1 || len(d.Failures) != 1 || d.Failures[0].Recipient != "gone@remote.test" || d.Failures[0].QueueID != id ||
		!strings.HasPrefix(d.Failures[0].Reply, "550 5.1.1 no such user") {
		t.Fatalf("failed %d, failures %+v; want gone@remote.test with the remote 550 5.1.1", d.Failed, d.Failures)
	}

	resp, body := logIn(t, s, "root", pw).get("/")
	for _, want := range []string{"Failed deliveries", "failed 1", "gone@remote.test", "550 5.1.1 no such user", `href="/trace?queue_id=` + id + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard: no %q", want)
		}
	}
	if strings.Contains(body, "bob@remote.test") || t.Failed() {
		t.Fatalf("dashboard: %d\n%s", resp.StatusCode, body)
	}
}
