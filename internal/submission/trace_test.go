package submission_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// findEvent returns the first event of kind (and, when not "", command)
// in the details' session events and deliveries.
func findEvent(ds []admin.AttemptDetail, kind, cmd string) (store.TraceEvent, bool) {
	for _, d := range ds {
		evs := d.Events
		for _, r := range d.ByRecipient {
			evs = append(slices.Clip(evs), r.Events...)
		}
		for _, e := range evs {
			if e.Kind == kind && (cmd == "" || e.Command == cmd) {
				return e, true
			}
		}
	}
	return store.TraceEvent{}, false
}

// TestTrace_RefusedAndAccepted: a SendAsDenied refusal and an accepted
// message are both in the trace, with reason, reply, envelope and the
// session's connection and AUTH events.
func TestTrace_RefusedAndAccepted(t *testing.T) {
	s := testkit.Start(t, senderFixture)
	ctx := context.Background()

	c := testkit.Ready(t, s, "app@example.test", pw)
	c.MustCmd("MAIL FROM:<support@example.test>", 550, "5.7.60")
	c.Cmd("QUIT")
	c.Close()

	c = testkit.Ready(t, s, "app@example.test", pw)
	r := submit(t, c, "app@example.test", "carol@example.test", "From: app@example.test\nTo: carol@example.test\nMessage-ID: <trace-1@example.test>\nSubject: hi\n\nhello\n")
	c.Expect(r, 250, "2.0.0")
	c.Cmd("QUIT")
	c.Close()

	bad := testkit.Dial(t, s.Addr("submission"))
	bad.MustCmd("EHLO client.example.test", 250, "")
	bad.StartTLS(s.TLSConfig())
	bad.Expect(bad.AuthPlain("app@example.test", "wrong-password"), 535, "5.7.3")
	bad.Close()

	refused := s.TraceDetails(admin.TraceQuery{Status: trace.StatusRefused, Since: time.Hour})
	e, ok := findEvent(refused, trace.KindRefused, "MAIL")
	if !ok || e.Reason != "send_as_denied" || e.Code != 550 || e.Enhanced != "5.7.60" || !strings.HasPrefix(e.Text, "SendAsDenied:") ||
		e.Sender != "support@example.test" || e.Mailbox != "app@example.test" || e.TLS == "" {
		t.Fatalf("refusal event: %+v (found %v) in %+v", e, ok, refused)
	}
	if a, ok := findEvent(refused, trace.KindAuth, ""); !ok || a.Reason != "bad_credentials" || a.Code != 535 || a.Mailbox != "app@example.test" {
		t.Fatalf("failed AUTH event: %+v (found %v)", a, ok)
	}
	if _, ok := findEvent(refused, trace.KindSession, ""); !ok {
		t.Fatalf("refused attempt without its session event: %+v", refused)
	}

	now := time.Now()
	bySender, err := s.Admin.TraceAttempts(ctx, admin.TraceQuery{Sender: "support@example.test"}, now)
	if err != nil || len(bySender.Attempts) != 1 || bySender.Attempts[0].Status != trace.StatusRefused {
		t.Fatalf("search by refused sender: %v %+v", err, bySender)
	}

	acc := s.TraceDetails(admin.TraceQuery{MessageID: "<trace-1@example.test>"})
	if len(acc) != 1 {
		t.Fatalf("search by Message-ID: %+v", acc)
	}
	a, ok := findEvent(acc, trace.KindAccepted, "")
	if !ok || a.QueueID == "" || a.Sender != "app@example.test" || len(a.Recipients) != 1 || a.Recipients[0] != "carol@example.test" || a.Size == 0 || a.Code != 250 {
		t.Fatalf("accepted event: %+v", a)
	}
	if !slices.Contains(acc[0].Copies, "app@example.test") {
		t.Errorf("no Sent Items copy: %+v", acc[0])
	}
	if d, ok := findEvent(acc, trace.KindDelivery, ""); !ok || d.Status != trace.StatusDelivered {
		t.Errorf("local delivery event: %+v (found %v)", d, ok)
	}
	if au, ok := findEvent(acc, trace.KindAuth, ""); !ok || au.Mailbox != "app@example.test" || au.Status != "" {
		t.Errorf("AUTH event of the accepted session: %+v (found %v)", au, ok)
	}
	byQueue, err := s.Admin.TraceAttempts(ctx, admin.TraceQuery{QueueID: a.QueueID, Recipient: "carol@example.test"}, now)
	if err != nil || len(byQueue.Attempts) != 1 || byQueue.Attempts[0].Session != acc[0].Session {
		t.Fatalf("search by queue id and recipient: %v %+v", err, byQueue)
	}
	if _, err := s.Admin.TraceAttempts(ctx, admin.TraceQuery{Status: "lost"}, now); err == nil {
		t.Error("unknown status accepted")
	}
}
