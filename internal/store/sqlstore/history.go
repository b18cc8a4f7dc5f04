package sqlstore

// A store's schema history is a list of versioned migrations: SQL files
// named NNNN_what.sql, the shared ones here and a driver's own, applied in
// version order (migrate.go).

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// Migration is one versioned schema change. A released file is never
// edited; a schema change is a new file.
type Migration struct {
	Version int64
	Name    string // the file name, e.g. 0002_sender_limits.sql
	SQL     string
}

// merge returns the migrations of every set in one version order: a
// store's history is the shared migrations and its dialect's own, and a
// version names one migration across them all.
func merge(sets ...[]Migration) ([]Migration, error) {
	var ms []Migration
	seen := map[int64]string{}
	for _, set := range sets {
		for _, m := range set {
			if other, dup := seen[m.Version]; dup {
				return nil, fmt.Errorf("migration %s: version %d already used by %s", m.Name, m.Version, other)
			}
			seen[m.Version] = m.Name
			ms = append(ms, m)
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// load reads migrations/*.sql from fsys in version order. Versions must be
// positive and unique; gaps are allowed (a store may skip a version
// another store needs).
func load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	ms := make([]Migration, 0, len(names))
	seen := map[int64]string{}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		prefix, _, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version and '_'", base)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migration %s: version %d already used by %s", base, v, other)
		}
		seen[v] = base
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		ms = append(ms, Migration{Version: v, Name: base, SQL: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}
