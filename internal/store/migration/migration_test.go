package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	ms, err := Load(fstest.MapFS{
		"migrations/0003_c.sql": {Data: []byte("C")},
		"migrations/0001_a.sql": {Data: []byte("A")},
	})
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].Name != "0003_c.sql" || ms[1].SQL != "C" {
		t.Fatalf("Load = %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"duplicate": {"migrations/0001_a.sql": {}, "migrations/1_b.sql": {}},
		"no prefix": {"migrations/init.sql": {}},
		"zero":      {"migrations/0000_a.sql": {}},
	} {
		if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), "migration") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
