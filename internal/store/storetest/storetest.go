// Package storetest owns the behavioural contract of store.Store: one suite
// that every implementation (SQLite, PostgreSQL) runs from its own tests, so
// they cannot drift apart.
//
// The suite only uses times with microsecond precision, the finest that
// every backend stores.
package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"mailroom/internal/store"
)

// Run runs the store.Store contract suite. open must return a new, empty
// store that no other test uses; subtests run in parallel, each on its own
// store, and Run closes every store it opened when its subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Domain", domainTests},
		{"Mailbox", mailboxTests},
		{"Alias", aliasTests},
		{"Grant", grantTests},
		{"AppPassword", appPasswordTests},
		{"OAuthClient", oauthClientTests},
		{"Connector", connectorTests},
		{"DirectoryVersion", versionTests},
		{"Accept", acceptTests},
		{"Body", bodyTests},
		{"Retention", retentionTests},
		{"SubmissionLog", submissionLogTests},
		{"Queue", queueTests},
		{"Folders", folderTests},
		{"DKIM", dkimTests},
		{"Trace", traceTests},
		{"TraceAttempts", attemptTests},
		{"APIToken", apiTokenTests},
		{"Stats", statsTests},
		{"ConsoleUser", consoleTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					s := open(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("close store: %v", err)
						}
					})
					tc.fn(t, s)
				})
			}
		})
	}
}

// test is one named behaviour, run on a fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// base is the time the suite's messages are stamped with: microsecond
// precision, outside UTC, so a backend must keep the instant, not the zone.
var base = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.FixedZone("CET", 3600))

// wantErr fails tb unless errors.Is(err, target).
func wantErr(tb testing.TB, err, target error, what string) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// noErr fails tb if err is not nil.
func noErr(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// mustCreateDomain creates domain name.
func mustCreateDomain(tb testing.TB, s store.Store, name string) store.Domain {
	tb.Helper()
	d, err := s.CreateDomain(tb.Context(), name, "")
	noErr(tb, err, "create domain "+name)
	return d
}

// mustCreateMailbox creates the mailbox address in domain, which must exist,
// as callers create a new login mailbox (SaveSent set, nothing else).
func mustCreateMailbox(tb testing.TB, s store.Store, address, domain string) store.Mailbox {
	tb.Helper()
	m, err := s.CreateMailbox(tb.Context(), store.Mailbox{
		Address:      address,
		Domain:       domain,
		DisplayName:  "Display " + address,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		SMTPAuth:     true,
		SaveSent:     true,
	})
	noErr(tb, err, "create mailbox "+address)
	return m
}

// mustVersion returns the directory version.
func mustVersion(tb testing.TB, s store.Store) int64 {
	tb.Helper()
	v, err := s.DirectoryVersion(tb.Context())
	noErr(tb, err, "directory version")
	return v
}

// acceptance builds an Acceptance of message id from mailbox sender to
// rcpts, with the sender's Sent Items entry and no recipient delivered.
func acceptance(id string, sender store.Mailbox, at time.Time, rcpts ...string) store.Acceptance {
	return store.Acceptance{
		Message: store.Message{
			ID:           id,
			MessageID:    id + "@mail.example",
			MailboxID:    sender.ID,
			EnvelopeFrom: sender.Address,
			Size:         1234,
			Blob:         "blob/" + id,
			DeliveryBlob: "blob/" + id + ".delivery",
			CreatedAt:    at,
		},
		Recipients: rcpts,
		Delivered:  map[string]bool{},
		Entries: []store.FolderEntry{{
			MailboxID: sender.ID,
			Folder:    store.FolderSent,
			MessageID: id,
			Blob:      "blob/" + id,
			Size:      1234,
			CreatedAt: at,
		}},
	}
}

// mustAccept accepts a.
func mustAccept(tb testing.TB, s store.Store, a store.Acceptance) {
	tb.Helper()
	noErr(tb, s.Accept(tb.Context(), a), fmt.Sprintf("accept %s", a.Message.ID))
}
