// Package archtest holds the test that keeps the import rules of
// STYLE.md §5: policy is pure, only the stores speak SQL, only the SMTP
// packages import go-smtp, the queue does not know delivery, config
// imports no other mailroom package but the leaf unit.
package archtest

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

type pkg struct {
	ImportPath string
	Imports    []string
	Standard   bool
}

func list(t *testing.T) []pkg {
	t.Helper()
	// A failing go list fails the test: skipping would let every rule
	// below pass unchecked. go test puts its own GOROOT/bin first in PATH.
	out, err := exec.Command("go", "list", "-json", "mailroom/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var ps []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestImportRules(t *testing.T) {
	allowed := func(p string, prefixes ...string) bool {
		for _, x := range prefixes {
			if strings.HasPrefix(p, x) {
				return true
			}
		}
		return false
	}
	for _, p := range list(t) {
		for _, imp := range p.Imports {
			switch {
			case p.ImportPath == "mailroom/internal/policy" && strings.Contains(imp, "."):
				t.Errorf("policy must stay pure (the standard library and the leaf unit only), imports %s", imp)
			case imp == "database/sql" && !allowed(p.ImportPath, "mailroom/internal/store/sqlite",
				"mailroom/internal/store/postgres", "mailroom/internal/store/sqlstore"):
				t.Errorf("only the stores speak SQL, but %s imports %s", p.ImportPath, imp)
			case strings.HasPrefix(imp, "github.com/jackc/pgx") && !allowed(p.ImportPath, "mailroom/internal/store/postgres"):
				t.Errorf("only store/postgres speaks PostgreSQL's protocol, but %s imports %s", p.ImportPath, imp)
			case strings.HasPrefix(imp, "modernc.org/sqlite") && !allowed(p.ImportPath, "mailroom/internal/store/sqlite"):
				t.Errorf("only store/sqlite opens SQLite, but %s imports %s", p.ImportPath, imp)
			case strings.HasPrefix(imp, "github.com/emersion/go-smtp") &&
				!allowed(p.ImportPath, "mailroom/internal/submission", "mailroom/internal/delivery", "mailroom/internal/load",
					"mailroom/internal/daemon", "mailroom/internal/testkit"):
				t.Errorf("only the SMTP packages import go-smtp, but %s does", p.ImportPath)
			case p.ImportPath == "mailroom/internal/config" && strings.HasPrefix(imp, "mailroom/") && imp != "mailroom/internal/unit":
				t.Errorf("config is the schema every package reads and imports no mailroom package (but the leaf unit, for its durations), but imports %s", imp)
			case p.ImportPath == "mailroom/internal/unit" && strings.HasPrefix(imp, "mailroom/"):
				t.Errorf("unit is a leaf (config reads its durations through it) and imports no mailroom package, but imports %s", imp)
			case p.ImportPath == "mailroom/internal/queue" && imp == "mailroom/internal/delivery":
				t.Errorf("queue declares the Deliverer it needs and must not import delivery")
			case p.ImportPath != "mailroom/cmd/mailroom" && imp == "mailroom/internal/daemon" && !allowed(p.ImportPath, "mailroom/internal/testkit"):
				t.Errorf("only cmd/mailroom and testkit compose the daemon, but %s imports it", p.ImportPath)
			}
		}
	}
}
