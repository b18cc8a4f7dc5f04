package queue

import (
	"testing"

	"mailroom/internal/store"
)

func TestRelayed(t *testing.T) {
	ds := []store.Domain{{Name: "a.test", Role: store.DomainHosted}, {Name: "b.test", Role: store.DomainRelay}, {Name: "c.test"}}
	for domain, want := range map[string]bool{"a.test": false, "b.test": true, "c.test": false, "x.test": false} {
		if got := relayed(ds, domain); got != want {
			t.Errorf("relayed(%s) = %v, want %v", domain, got, want)
		}
	}
}
