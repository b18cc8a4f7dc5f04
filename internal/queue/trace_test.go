package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
	"mailroom/internal/trace"
)

// TestQueue_TraceDeliveryAttempts: each remote attempt is traced with the
// remote reply and the state it leads to, and the submission's timeline
// ends in its final state.
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
	var tl []admin.Timeline
	testkit.Eventually(t, "three delivery events", func() bool {
		s.Daemon.FlushTrace()
		var err error
		tl, err = s.Admin.Trace(ctx, admin.TraceQuery{MessageID: "q-trace@example.test"}, time.Now())
		if err != nil || len(tl) != 1 {
			return false
		}
		n := 0
		for _, e := range tl[0].Events {
			if e.Kind == trace.KindDelivery {
				n++
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
	for _, e := range tl[0].Events {
		if e.Kind != trace.KindDelivery {
			continue
		}
		w := want[e.Recipients[0]]
		if e.Status != w.status || e.Code != w.code || e.QueueID == "" || e.Remote == "" {
			t.Errorf("delivery event for %s: %+v, want %s with %d", e.Recipients[0], e, w.status, w.code)
		}
	}
	if tl[0].Session == "" {
		t.Errorf("delivery events not joined to the submission's session: %+v", tl[0])
	}
	failed, err := s.Admin.Trace(ctx, admin.TraceQuery{Status: trace.StatusFailed, Recipient: "nobody@remote.test"}, time.Now())
	if err != nil || len(failed) != 1 {
		t.Errorf("search failed deliveries: %v %+v", err, failed)
	}

	// Dropping the deferred recipient is traced too.
	id := tl[0].QueueIDs[0]
	if n, err := s.Admin.DropQueue(ctx, admin.QueueSelection{ID: id, Recipient: "later@remote.test"}); err != nil || n != 1 {
		t.Fatalf("drop: %d %v", n, err)
	}
	dropped, err := s.Admin.Trace(ctx, admin.TraceQuery{QueueID: id, Status: trace.StatusFailed}, time.Now())
	if err != nil || len(dropped) != 1 || dropped[0].Events[len(dropped[0].Events)-1].Kind != trace.KindDropped {
		t.Fatalf("dropped: %v %+v", err, dropped)
	}
}
