package storetest

import (
	"context"
	"testing"
	"time"

	"mailroom/internal/store"
)

var traceTests = []test{
	{"AppendAndSearch", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		evs := []store.TraceEvent{
			{At: base, Session: "c1", Kind: "session", Remote: "192.0.2.1:4000", TLS: "TLS 1.3"},
			{At: base.Add(time.Millisecond), Session: "c1", Kind: "refused", Status: "refused", Command: "MAIL", Sender: "boss@example.com",
				Reason: "send_as_denied", Code: 550, Enhanced: "5.7.60", Text: "SendAsDenied: x"},
			{At: base.Add(2 * time.Millisecond), Session: "c2", QueueID: "q1", Kind: "accepted", Status: "accepted", Sender: "app@example.com", Mailbox: "app@example.com",
				Recipients: []string{"a@example.org", "b_x@example.org"}, MessageID: "m1@example.com", Size: 42},
			{At: base.Add(3 * time.Millisecond), QueueID: "q1", Kind: "delivery", Status: "delivered", Recipients: []string{"a@example.org"}, Code: 250},
		}
		noErr(t, s.AppendTrace(ctx, evs), "append")
		if evs[0].ID == 0 || evs[3].ID <= evs[0].ID {
			t.Fatalf("ids not assigned in order: %d %d", evs[0].ID, evs[3].ID)
		}
		all, err := s.SearchTrace(ctx, store.TraceFilter{})
		noErr(t, err, "search all")
		if len(all) != 4 || !all[0].At.Equal(base) || all[2].Size != 42 || len(all[2].Recipients) != 2 || all[1].Enhanced != "5.7.60" {
			t.Fatalf("search all: %+v", all)
		}
		for name, tc := range map[string]struct {
			f    store.TraceFilter
			want int
		}{
			"mailbox":           {store.TraceFilter{Mailbox: "app@example.com"}, 1},
			"mailbox case":      {store.TraceFilter{Mailbox: "App@example.com"}, 0},
			"queue ids":         {store.TraceFilter{QueueIDs: []string{"q1"}}, 2},
			"status":            {store.TraceFilter{Status: "refused"}, 1},
			"since":             {store.TraceFilter{Since: base.Add(2 * time.Millisecond)}, 2},
			"sessions or queue": {store.TraceFilter{Sessions: []string{"c1"}, QueueIDs: []string{"q1"}}, 4},
			"limit newest":      {store.TraceFilter{Limit: 1}, 1},
		} {
			got, err := s.SearchTrace(ctx, tc.f)
			noErr(t, err, name)
			if len(got) != tc.want {
				t.Errorf("%s: got %d events, want %d", name, len(got), tc.want)
			}
		}
		newest, _ := s.SearchTrace(ctx, store.TraceFilter{Limit: 1})
		if newest[0].Kind != "delivery" {
			t.Errorf("limit: got %s, want the newest (delivery)", newest[0].Kind)
		}
		n, err := s.DeleteTraceBefore(ctx, base.Add(2*time.Millisecond))
		noErr(t, err, "delete")
		if n != 2 {
			t.Errorf("deleted %d, want 2", n)
		}
	}},
}

var apiTokenTests = []test{
	{"AddListRevoke", func(t *testing.T, s store.Store) {
		ctx := context.Background()
		tok, err := s.AddAPIToken(ctx, store.APIToken{Label: "ci", Hash: "abc"})
		noErr(t, err, "add")
		if tok.ID == 0 || tok.CreatedAt.IsZero() {
			t.Fatalf("add: %+v", tok)
		}
		_, err = s.AddAPIToken(ctx, store.APIToken{Label: "ci", Hash: "def"})
		wantErr(t, err, store.ErrConflict, "add same label")
		got, err := s.APITokenByHash(ctx, "abc")
		noErr(t, err, "by hash")
		if got.Label != "ci" {
			t.Errorf("by hash: %+v", got)
		}
		_, err = s.APITokenByHash(ctx, "nope")
		wantErr(t, err, store.ErrNotFound, "unknown hash")
		ts, err := s.APITokens(ctx)
		noErr(t, err, "list")
		if len(ts) != 1 {
			t.Errorf("list: %+v", ts)
		}
		noErr(t, s.RevokeAPIToken(ctx, "ci"), "revoke")
		wantErr(t, s.RevokeAPIToken(ctx, "ci"), store.ErrNotFound, "revoke again")
	}},
}
