package sqlstore

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	ms, err := load(fstest.MapFS{
		"migrations/0003_c.sql": {Data: []byte("C")},
		"migrations/0001_a.sql": {Data: []byte("A")},
	})
	if err != nil || len(ms) != 2 || ms[0].Version != 1 || ms[1].Name != "0003_c.sql" || ms[1].SQL != "C" {
		t.Fatalf("load = %+v, %v", ms, err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"duplicate": {"migrations/0001_a.sql": {}, "migrations/1_b.sql": {}},
		"no prefix": {"migrations/init.sql": {}},
		"zero":      {"migrations/0000_a.sql": {}},
	} {
		if _, err := load(fsys); err == nil || !strings.Contains(err.Error(), "migration") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestMerge(t *testing.T) {
	ms, err := merge([]Migration{{Version: 3, Name: "c"}, {Version: 1, Name: "a"}}, []Migration{{Version: 2, Name: "b"}})
	if err != nil || len(ms) != 3 || ms[0].Name != "a" || ms[1].Name != "b" || ms[2].Name != "c" {
		t.Fatalf("merge = %+v, %v", ms, err)
	}
	if _, err := merge([]Migration{{Version: 1, Name: "a"}}, []Migration{{Version: 1, Name: "b"}}); err == nil {
		t.Error("merge accepted one version twice")
	}
}
