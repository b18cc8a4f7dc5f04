package directory

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"mailroom/internal/policy"
	"mailroom/internal/store"
	"mailroom/internal/store/sqlite"
)

// openAddresses opens a directory over a store holding example.com and
// example.org with the given mailboxes (created in order) and aliases
// (alias → mailbox), written directly to the store as a database made
// before admin refused the separator would hold them.
func openAddresses(t *testing.T, o Options, mailboxes []string, aliases map[string]string) *Directory {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, d := range []string{"example.com", "example.org"} {
		if _, err := st.CreateDomain(ctx, d, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range mailboxes {
		dom := a[strings.LastIndexByte(a, '@')+1:]
		if _, err := st.CreateMailbox(ctx, store.Mailbox{Address: a, Domain: dom, SMTPAuth: true, SaveSent: true}); err != nil {
			t.Fatal(err)
		}
	}
	for a, m := range aliases {
		if err := st.AddAlias(ctx, m, a); err != nil {
			t.Fatal(err)
		}
	}
	if o.HashParams == (Params{}) {
		o.HashParams = testParams
	}
	d, err := New(ctx, st, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestSnapshot_SenderTaggedMailboxes: with mailboxes alice@ and alice+bot@
// in one database, neither sends as the other, and each keeps its own.
func TestSnapshot_SenderTaggedMailboxes(t *testing.T) {
	var log bytes.Buffer
	d := openAddresses(t, Options{PlusSeparator: "+", Log: slog.New(slog.NewTextHandler(&log, nil))},
		[]string{"alice@example.com", "alice+bot@example.com", "app@example.com"},
		map[string]string{"sales+eu@example.com": "app@example.com"})
	snap := d.Snapshot()
	for _, tc := range []struct {
		mailbox, addr string
		want          policy.Via
	}{
		{"alice+bot@example.com", "alice@example.com", policy.ViaNone},
		{"alice+bot@example.com", "alice+news@example.com", policy.ViaNone},
		{"alice+bot@example.com", "alice+bot@example.com", policy.ViaOwn},
		{"alice@example.com", "alice+bot@example.com", policy.ViaNone},
		{"alice@example.com", "alice+news@example.com", policy.ViaOwn},
		{"app@example.com", "sales+eu@example.com", policy.ViaOwn},
		{"app@example.com", "sales@example.com", policy.ViaNone},
	} {
		m, ok := snap.Mailbox(tc.mailbox)
		if !ok {
			t.Fatalf("no mailbox %s", tc.mailbox)
		}
		if got, _ := snap.Sender(m).Via(tc.addr); got != tc.want {
			t.Errorf("%s: Via(%s) = %v, want %v", tc.mailbox, tc.addr, got, tc.want)
		}
	}
	// Mail to each reaches its own mailbox.
	for addr, want := range map[string]string{
		"alice+bot@example.com": "alice+bot@example.com", "alice+news@example.com": "alice@example.com",
		"sales+eu@example.com": "app@example.com", "sales+eu+x@example.com": "",
	} {
		m, ok := snap.Resolve(addr)
		if got := ""; ok {
			got = m.Address
			if got != want {
				t.Errorf("Resolve(%s) = %s, want %s", addr, got, want)
			}
		} else if want != "" {
			t.Errorf("Resolve(%s) found nothing, want %s", addr, want)
		}
	}
	// The server's log names each such address and the setting.
	for _, want := range []string{"alice+bot@example.com", "sales+eu@example.com", "addresses.plus_separator"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

// TestSnapshot_ResolvePostmaster: postmaster@ of every served domain
// reaches a mailbox when no mailbox or alias has that address (RFC 5321
// §4.5.1): the configured one, else the domain's oldest mailbox.
func TestSnapshot_ResolvePostmaster(t *testing.T) {
	boxes := []string{"zed@example.com", "amy@example.com", "ops@example.org"}
	for _, tc := range []struct {
		name, postmaster string
		aliases          map[string]string
		want             map[string]string // address → mailbox, "" for none
	}{
		{"default: the domain's oldest mailbox", "", nil, map[string]string{
			"postmaster@example.com": "zed@example.com", "postmaster@example.org": "ops@example.org",
			"postmaster+x@example.com": "zed@example.com", "postmaster@example.net": "", "postmistress@example.com": "",
		}},
		{"configured mailbox for every domain", "Amy@Example.COM", nil, map[string]string{
			"postmaster@example.com": "amy@example.com", "postmaster@example.org": "amy@example.com",
		}},
		{"configured alias", "abuse@example.org", map[string]string{"abuse@example.org": "ops@example.org"}, map[string]string{
			"postmaster@example.com": "ops@example.org",
		}},
		{"an existing postmaster address wins", "amy@example.com", map[string]string{"postmaster@example.org": "ops@example.org"}, map[string]string{
			"postmaster@example.com": "amy@example.com", "postmaster@example.org": "ops@example.org",
		}},
		{"configured but missing: the default", "gone@example.com", nil, map[string]string{
			"postmaster@example.com": "zed@example.com",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := openAddresses(t, Options{PlusSeparator: "+", Postmaster: tc.postmaster}, boxes, tc.aliases)
			for addr, want := range tc.want {
				m, ok := d.Snapshot().Resolve(addr)
				switch {
				case want == "" && ok:
					t.Errorf("Resolve(%s) = %s, want nothing", addr, m.Address)
				case want != "" && !ok:
					t.Errorf("Resolve(%s) found nothing, want %s", addr, want)
				case ok && m.Address != want:
					t.Errorf("Resolve(%s) = %s, want %s", addr, m.Address, want)
				}
			}
		})
	}
}
