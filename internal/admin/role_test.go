package admin

import (
	"context"
	"path/filepath"
	"testing"

	"mailroom/internal/store"
	"mailroom/internal/store/sqlite"
)

// TestAddDomainWithRole_OneChange: a relay domain is relay from its first
// directory version. Were it written hosted and then made relay, a queue
// retry between the two writes would find a hosted domain with no mailbox
// in it and fail its recipients for good (550 5.1.1).
func TestAddDomainWithRole_OneChange(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a := New(st)
	before, err := st.DirectoryVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	d, err := a.AddDomainWithRole(ctx, "relay.example", store.DomainRelay)
	if err != nil {
		t.Fatal(err)
	}
	after, err := st.DirectoryVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Role != store.DomainRelay {
		t.Errorf("role %q, want relay", d.Role)
	}
	if after != before+1 {
		t.Errorf("adding a relay domain made %d directory versions, want 1 (no hosted state in between)", after-before)
	}
}
