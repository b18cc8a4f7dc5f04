package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"mailroom/internal/store"
)

// attemptTests: the trace's list of submission attempts (migration 0015).
var attemptTests = []test{
	{"SearchAndPage", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }
		evs := []store.TraceEvent{
			{At: at(0), Session: "c1", Kind: "session", Remote: "192.0.2.1:4000"},
			{At: at(1), Session: "c1", Kind: "auth", Status: "refused", Command: "AUTH", Mailbox: "mallory@example.com", Attempt: true,
				Reason: "bad_credentials", Code: 535, Enhanced: "5.7.3"},
			{At: at(2), Session: "c2", Kind: "refused", Status: "refused", Command: "MAIL", Mailbox: "bob@example.com", Sender: "boss@example.com",
				Attempt: true, Code: 550, Enhanced: "5.7.60"},
			// bob sends on behalf of shared@: From shared@, Sender bob@.
			{At: at(3), Session: "c2", QueueID: "q1", Kind: "accepted", Status: "accepted", Mailbox: "bob@example.com", Sender: "shared@example.com",
				Recipients: []string{"a@example.org", "b_x@example.org"}, MessageID: "m1@example.com", Size: 42, Attempt: true,
				HeaderFrom: []string{"shared@example.com"}, HeaderSender: "bob@example.com", Subject: "Invoice 100% paid", Connector: ""},
			{At: at(4), QueueID: "q1", Kind: "delivery", Status: "failed", Recipients: []string{"a@example.org"}, Code: 550},
			{At: at(5), Session: "c3", QueueID: "q2", Kind: "accepted", Status: "accepted", Mailbox: "printer@example.com", Sender: "printer@example.com",
				Recipients: []string{"bob@example.com"}, MessageID: "m2@example.com", Attempt: true, Subject: "Scan", Connector: "floor-2",
				HeaderFrom: []string{"printer@example.com", "other@example.com"}},
		}
		noErr(t, s.AppendTrace(ctx, evs), "append")
		got, err := s.TraceEvent(ctx, evs[3].ID)
		noErr(t, err, "event by id")
		if !got.Attempt || got.Subject != "Invoice 100% paid" || got.HeaderSender != "bob@example.com" || !slices.Equal(got.HeaderFrom, []string{"shared@example.com"}) {
			t.Errorf("event by id: %+v", got)
		}
		if c, _ := s.TraceEvent(ctx, evs[5].ID); c.Connector != "floor-2" || len(c.HeaderFrom) != 2 {
			t.Errorf("connector attempt: %+v", c)
		}
		_, err = s.TraceEvent(ctx, evs[5].ID+100)
		wantErr(t, err, store.ErrNotFound, "unknown event")

		ids := func(es []store.TraceEvent) []int64 {
			var out []int64
			for _, e := range es {
				out = append(out, e.ID)
			}
			return out
		}
		e := func(i ...int) []int64 {
			var out []int64
			for _, j := range i {
				out = append(out, evs[j].ID)
			}
			return out
		}
		for name, tc := range map[string]struct {
			f    store.AttemptFilter
			want []int64
		}{
			"all, newest first":     {store.AttemptFilter{}, e(5, 3, 2, 1)},
			"mailbox":               {store.AttemptFilter{Mailbox: "bob@example.com"}, e(3, 2)},
			"mailbox prefix":        {store.AttemptFilter{Mailbox: "bo", MailboxPrefix: true}, e(3, 2)},
			"mailbox is exact":      {store.AttemptFilter{Mailbox: "bo"}, nil},
			"sender envelope":       {store.AttemptFilter{Sender: "boss@example.com"}, e(2)},
			"sender header From":    {store.AttemptFilter{Sender: "other@example.com"}, e(5)},
			"sender header Sender":  {store.AttemptFilter{Sender: "bob@example.com"}, e(3)},
			"sender prefix":         {store.AttemptFilter{Sender: "bob@", SenderPrefix: true}, e(3)},
			"sender prefix domain":  {store.AttemptFilter{Sender: "b", SenderPrefix: true}, e(3, 2)},
			"sender exact is exact": {store.AttemptFilter{Sender: "bob@"}, nil},
			"sender not recipient":  {store.AttemptFilter{Sender: "a@example.org"}, nil},
			"recipient":             {store.AttemptFilter{Recipient: "bob@example.com"}, e(5)},
			"recipient prefix":      {store.AttemptFilter{Recipient: "b_", RecipientPrefix: true}, e(3)},
			"recipient _ literal":   {store.AttemptFilter{Recipient: "bax@example.org"}, nil},
			"recipient case":        {store.AttemptFilter{Recipient: "A@example.org"}, nil},
			"subject":               {store.AttemptFilter{Subject: "invoice"}, e(3)},
			"subject % literal":     {store.AttemptFilter{Subject: "100% p"}, e(3)},
			"subject % not wild":    {store.AttemptFilter{Subject: "1%d"}, nil},
			"message id":            {store.AttemptFilter{MessageID: "m2@example.com"}, e(5)},
			"queue id":              {store.AttemptFilter{QueueID: "q1"}, e(3)},
			"status":                {store.AttemptFilter{Status: "refused"}, e(2, 1)},
			"delivery failed":       {store.AttemptFilter{Delivery: "failed"}, e(3)},
			"since":                 {store.AttemptFilter{Since: at(2)}, e(5, 3, 2)},
			"until":                 {store.AttemptFilter{Until: at(3)}, e(2, 1)},
			"after cursor":          {store.AttemptFilter{AfterAt: at(3), AfterID: evs[3].ID}, e(2, 1)},
			"and":                   {store.AttemptFilter{Mailbox: "bob@example.com", Status: "accepted"}, e(3)},
		} {
			if tc.f.Limit == 0 {
				tc.f.Limit = 10
			}
			got, err := s.SearchAttempts(ctx, tc.f)
			noErr(t, err, name)
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("%s: got %v, want %v", name, ids(got), tc.want)
			}
		}
		// Keyset paging: pages of 1 walk the list once, in order, also
		// through attempts at the same instant.
		same := []store.TraceEvent{{At: at(9), Kind: "accepted", Status: "accepted", Attempt: true, QueueID: "s1"},
			{At: at(9), Kind: "accepted", Status: "accepted", Attempt: true, QueueID: "s2"}}
		noErr(t, s.AppendTrace(ctx, same), "append same instant")
		var walked []int64
		f := store.AttemptFilter{Limit: 1}
		for range 10 {
			page, err := s.SearchAttempts(ctx, f)
			noErr(t, err, "page")
			if len(page) == 0 {
				break
			}
			walked = append(walked, page[0].ID)
			f.AfterAt, f.AfterID = page[0].At, page[0].ID
		}
		if want := append([]int64{same[1].ID, same[0].ID}, e(5, 3, 2, 1)...); !slices.Equal(walked, want) {
			t.Errorf("paged: %v, want %v", walked, want)
		}
		for _, n := range []int{0, store.MaxAttemptPage + 1} {
			if _, err := s.SearchAttempts(ctx, store.AttemptFilter{Limit: n}); err == nil {
				t.Errorf("limit %d: no error", n)
			}
		}
		// Deleting events deletes their addresses: what is left is found.
		_, err = s.DeleteTraceBefore(ctx, at(3))
		noErr(t, err, "delete")
		got2, err := s.SearchAttempts(ctx, store.AttemptFilter{Sender: "b", SenderPrefix: true, Limit: 10})
		noErr(t, err, "after delete")
		if fmt.Sprint(ids(got2)) != fmt.Sprint(e(3)) {
			t.Errorf("after delete: %v", ids(got2))
		}
	}},
}
