package directory

import (
	"context"
	"slices"
	"testing"
)

// TestSnapshot_OAuthClient: the snapshot answers which mailboxes an
// app-only client may act as from memory, and follows the store on reload.
func TestSnapshot_OAuthClient(t *testing.T) {
	d, st, _ := openDirectory(t, 0)
	ctx := context.Background()
	const iss = "https://login.example.com/realms/acme"
	if got := d.OAuthClients(iss, "billing"); got != nil {
		t.Fatalf("before any client: %v", got)
	}
	if _, err := st.AddOAuthClient(ctx, iss, "billing", []string{"a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddOAuthClient(ctx, iss, "idle", nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := d.OAuthClients(iss, "billing"); !slices.Equal(got, []string{"a@example.com"}) {
		t.Errorf("billing may act as %v, want a@example.com", got)
	}
	for _, tc := range []struct{ iss, id string }{{iss, "idle"}, {iss, "Billing"}, {"https://other.example", "billing"}} {
		if got := d.OAuthClients(tc.iss, tc.id); got != nil {
			t.Errorf("%s of %s may act as %v, want none", tc.id, tc.iss, got)
		}
	}
	if err := st.RemoveOAuthClient(ctx, iss, "billing", nil); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := d.OAuthClients(iss, "billing"); got != nil {
		t.Errorf("removed client may act as %v", got)
	}
}
