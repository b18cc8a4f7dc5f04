package admin

import (
	"testing"

	"mailroom/internal/store"
)

// TestAddDomainWithRole_OneChange: a relay domain is relay from its first
// directory version. Were it written hosted and then made relay, a queue
// retry between the two writes would find a hosted domain with no mailbox
// in it and fail its recipients for good (550 5.1.1).
func TestAddDomainWithRole_OneChange(t *testing.T) {
	ctx := t.Context()
	a, st := newTestService(t)
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
