package storetest

import (
	"bytes"
	"testing"
	"time"

	"mailroom/internal/store"
)

// Statement is one SQL statement and its arguments.
type Statement struct {
	SQL  string
	Args []any
}

// MainFixture is mail as the store of mailroom's main branch before the
// shared store (schema version 8) wrote it: a driver's upgrade test
// applies the migrations of that time, runs these (plain SQL, the same in
// both databases), opens the database with the current code and hands it
// to CheckMainFixture.
var MainFixture = []Statement{
	{`INSERT INTO domains (name, created_at) VALUES ('example.org', 1000)`, nil},
	{`INSERT INTO mailboxes (address, domain_id, display_name, password_hash, smtp_auth, created_at, updated_at)
	  VALUES ('alice@example.org', (SELECT id FROM domains WHERE name = 'example.org'), 'Alice', 'hash', TRUE, 1000, 1000)`, nil},
	{`INSERT INTO aliases (address, mailbox_id, created_at)
	  VALUES ('al@example.org', (SELECT id FROM mailboxes WHERE address = 'alice@example.org'), 1000)`, nil},
	{`INSERT INTO grants (kind, on_addr, grantee_id, created_at)
	  VALUES ('send-as', '@example.org', (SELECT id FROM mailboxes WHERE address = 'alice@example.org'), 1000)`, nil},
	{`INSERT INTO messages (id, message_id, mailbox_id, envelope_from, size, blob, delivery_blob, created_at)
	  VALUES ('Q1', 'm1@example.org', (SELECT id FROM mailboxes WHERE address = 'alice@example.org'),
	  'alice@example.org', 5, 'db:Q1', 'db:Q1', 2000)`, nil},
	{`INSERT INTO queue (message_id, recipient, state, attempts, next_attempt_at, last_reply, updated_at)
	  VALUES ('Q1', 'bob@example.net', 'queued', 1, 3000, '451 later', 2500)`, nil},
	{`INSERT INTO folder_entries (mailbox_id, folder, message_id, blob, size, created_at)
	  VALUES ((SELECT id FROM mailboxes WHERE address = 'alice@example.org'), 'Sent Items', 'Q1', 'db:Q1', 5, 2000)`, nil},
	{`INSERT INTO bodies (key, part, data, stored_at) VALUES ('db:Q1', 0, $1, 2000)`, []any{[]byte("hello")}},
	{`INSERT INTO submission_log (mailbox_id, at, recipients)
	  VALUES ((SELECT id FROM mailboxes WHERE address = 'alice@example.org'), 2000, 1)`, nil},
	{`UPDATE meta SET value = 4 WHERE key = 'directory_version'`, nil},
}

// CheckMainFixture checks that s, opened on a database holding
// MainFixture, reads all of it and takes new mail.
func CheckMainFixture(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	if ds, err := s.Domains(ctx); err != nil || len(ds) != 1 || ds[0].Role != store.DomainHosted {
		t.Errorf("domains = %+v, %v; want example.org hosted", ds, err)
	}
	mb, err := s.Mailbox(ctx, "alice@example.org")
	noErr(t, err, "read mailbox")
	if mb.DisplayName != "Alice" || !mb.SMTPAuth || !mb.SaveSent || mb.Networks != nil || mb.Domain != "example.org" {
		t.Errorf("mailbox = %+v", mb)
	}
	if as, err := s.Aliases(ctx); err != nil || len(as) != 1 || as[0].Mailbox != mb.Address {
		t.Errorf("aliases = %+v, %v", as, err)
	}
	if gs, err := s.Grants(ctx); err != nil || len(gs) != 1 || gs[0].On != "@example.org" {
		t.Errorf("grants = %+v, %v", gs, err)
	}
	m, err := s.Message(ctx, "Q1")
	noErr(t, err, "read message")
	if m.MailboxID != mb.ID || m.Size != 5 || !m.CreatedAt.Equal(time.Unix(0, 2000)) {
		t.Errorf("message = %+v", m)
	}
	rows, err := s.QueueRows(ctx, "Q1")
	noErr(t, err, "read queue rows")
	if len(rows) != 1 || rows[0].State != store.StateQueued || rows[0].Attempts != 1 || rows[0].LastReply != "451 later" {
		t.Errorf("queue rows = %+v", rows)
	}
	es, err := s.FolderEntries(ctx, mb.ID, store.FolderSent)
	noErr(t, err, "read Sent Items")
	if len(es) != 1 || es[0].MessageID != "Q1" {
		t.Errorf("Sent Items = %+v", es)
	}
	body, err := s.BodyPart(ctx, "db:Q1", 0)
	noErr(t, err, "read body")
	if !bytes.Equal(body, []byte("hello")) {
		t.Errorf("body = %q", body)
	}
	if rs, err := s.SubmissionLog(ctx, time.Unix(0, 0)); err != nil || len(rs) != 1 || rs[0].MailboxID != mb.ID {
		t.Errorf("submission log = %+v, %v", rs, err)
	}
	if v := mustVersion(t, s); v != 4 {
		t.Errorf("directory version = %d, want 4", v)
	}
	mustAccept(t, s, acceptance("Q2", mb, time.Unix(0, 5000), "carol@example.net"))
	if rows, err := s.QueueRows(ctx, ""); err != nil || len(rows) != 2 {
		t.Errorf("queue after a new acceptance = %+v, %v", rows, err)
	}
	// The entry the fixture had is UID 1 of a Sent Items made for it; the new one 2.
	f, err := s.Folder(ctx, mb.ID, store.FolderSent)
	noErr(t, err, "read Sent Items folder")
	if f.SpecialUse != store.SpecialUseSent || f.UIDNext != 3 || f.Messages != 2 || f.UIDValidity == 0 {
		t.Errorf("Sent Items = %+v", f)
	}
	ms, err := s.FolderMessages(ctx, mb.ID, store.FolderSent)
	noErr(t, err, "list Sent Items")
	if len(ms) != 2 || ms[0].MessageID != "Q1" || ms[0].UID != 1 || ms[1].UID != 2 {
		t.Errorf("Sent Items messages = %+v", ms)
	}
}
