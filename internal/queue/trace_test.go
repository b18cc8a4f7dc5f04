package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// TestQueue_TraceDeliveryAttempts: each remote attempt is traced with the
// remote reply and the state it leads to, and the submission's detail
// shows each recipient's attempts and a drop.
func TestQueue_TraceDeliveryAttempts(t *testing.T) {
	r := testkit.NewRemote(t)
	r.MX(t, "remote.test", testkit.MXOptions{Rcpt: func(rcpt string) *smtp.SMTPError {
		switch rcpt {
		case "later@remote.test":
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 0}, Message: "Try again later"}
		case "nobody@remote.test":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
		}
		return nil
	}})
	s := testkit.Start(t, fixture, testkit.WithRemote(r), fastPoll)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	for _, rcpt := range []string{"bob@remote.test", "later@remote.test", "nobody@remote.test"} {
		c.MustCmd("RCPT TO:<"+rcpt+">", 250, "")
	}
	reply := c.SendData("From: alice@example.test\nMessage-ID: <q-trace@example.test>\nSubject: hi\n\nhello\n")
	c.Expect(reply, 250, "2.0.0")
	c.Close()

	ctx := context.Background()
	var d admin.AttemptDetail
	testkit.Eventually(t, "three delivery events", func() bool {
		ds := s.TraceDetails(admin.TraceQuery{MessageID: "q-trace@example.test"})
		if len(ds) != 1 {
			return false
		}
		d = ds[0]
		n := 0
		for _, r := range d.ByRecipient {
			for _, e := range r.Events {
				if e.Kind == trace.KindDelivery {
					n++
				}
			}
		}
		return n >= 3
	})
	want := map[string]struct {
		status string
		code   int
	}{
		"bob@remote.test":    {trace.StatusDelivered, 250},
		"later@remote.test":  {trace.StatusDeferred, 451},
		"nobody@remote.test": {trace.StatusFailed, 550},
	}
	for _, r := range d.ByRecipient {
		for _, e := range r.Events {
			if e.Kind != trace.KindDelivery {
				continue
			}
			w := want[e.Recipients[0]]
			if e.Recipients[0] != r.Recipient || e.Status != w.status || e.Code != w.code || e.QueueID != d.QueueID || e.Remote == "" {
				t.Errorf("delivery event for %s: %+v, want %s with %d", r.Recipient, e, w.status, w.code)
			}
		}
	}
	if d.Session == "" || d.QueueID == "" {
		t.Errorf("delivery events not joined to the submission's session: %+v", d)
	}
	failed, err := s.Admin.TraceAttempts(ctx, admin.TraceQuery{Status: trace.StatusFailed, Recipient: "nobody@remote.test"}, time.Now())
	if err != nil || len(failed.Attempts) != 1 {
		t.Errorf("search failed deliveries: %v %+v", err, failed)
	}

	// Dropping the deferred recipient is traced too.
	id := d.QueueID
	if n, err := s.Admin.DropQueue(ctx, admin.QueueSelection{ID: id, Recipient: "later@remote.test"}); err != nil || n != 1 {
		t.Fatalf("drop: %d %v", n, err)
	}
	dropped := s.TraceDetails(admin.TraceQuery{QueueID: id, Status: trace.StatusFailed})
	if len(dropped) != 1 {
		t.Fatalf("dropped: %+v", dropped)
	}
	// A retry already under way when the drop came may still record its
	// own (deferred) outcome after the drop: the trace tells both, in the
	// order they happened; the row stays dropped.
	var droppedEvent bool
	for _, r := range dropped[0].ByRecipient {
		if r.Recipient != "later@remote.test" {
			continue
		}
		for _, e := range r.Events {
			droppedEvent = droppedEvent || e.Kind == trace.KindDropped
		}
	}
	if !droppedEvent {
		t.Fatalf("later@ has no %s event: %+v", trace.KindDropped, dropped[0].ByRecipient)
	}
	if st := s.QueueStates(id)["later@remote.test"]; st != store.StateFailed {
		t.Errorf("later@'s row after the drop: %q, want %s", st, store.StateFailed)
	}
}
