package imap_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// TestIMAP_QueueDeliveredSizeWithoutBcc: a recipient that becomes local
// after acceptance is delivered to its Inbox by the queue; the entry names
// the copy without Bcc:, and IMAP's RFC822.SIZE is that copy's size,
// whether the body is in the database or a file.
func TestIMAP_QueueDeliveredSizeWithoutBcc(t *testing.T) {
	t.Run("database", func(t *testing.T) { queueDeliveredSize(t) })
	t.Run("files", func(t *testing.T) {
		queueDeliveredSize(t, func(c *config.Config) { c.Store.Bodies = config.BodiesFiles })
	})
	t.Run("postgres", func(t *testing.T) { queueDeliveredSize(t, testkit.WithPostgres(t)) })
}

func queueDeliveredSize(t *testing.T, opts ...testkit.Option) {
	r := testkit.NewRemote(t)
	var tried atomic.Int32
	r.MX(t, "later.test", testkit.MXOptions{Rcpt: func(string) *smtp.SMTPError {
		tried.Add(1)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "try again"}
	}})
	s := testkit.Start(t, fixture, append(opts, testkit.WithRemote(r))...)
	msg := strings.Replace(message("m1@example.test", "Later"), "To: bob@example.test", "To: carol@later.test", 1)
	submit(t, s, []string{"carol@later.test"}, msg)
	testkit.Eventually(t, "the remote MX is tried", func() bool { return tried.Load() > 0 })

	// The domain comes first as a relay (its mail still goes to its MX),
	// then, with carol in it, turns hosted: a retry between the two steps
	// must not find a hosted domain without carol (a 550).
	ctx := context.Background()
	_, err := s.Admin.AddDomainWithRole(ctx, "later.test", store.DomainRelay)
	testkit.MustAdd(t, err)
	_, _, err = s.Admin.AddMailbox(ctx, admin.NewMailbox{Address: "carol@later.test", Password: pw})
	testkit.MustAdd(t, err)
	hosted := store.DomainHosted
	_, err = s.Admin.SetDomain(ctx, "later.test", admin.DomainChange{Role: &hosted})
	testkit.MustAdd(t, err)
	s.SyncDirectory()
	testkit.Eventually(t, "the queue delivers to carol's Inbox", func() bool {
		return len(s.Folder("carol@later.test", store.FolderInbox)) == 1
	})

	carol := s.LoginIMAP("carol@later.test", pw, nil)
	if _, err := carol.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs := fetchAll(t, carol)
	if len(msgs) != 1 {
		t.Fatalf("INBOX = %+v", msgs)
	}
	body := msgs[0].BodySection[0].Bytes
	if strings.Contains(string(body), "Bcc:") || !strings.Contains(string(body), "Subject: Later") {
		t.Fatalf("INBOX message:\n%s", body)
	}
	if msgs[0].RFC822Size != int64(len(body)) {
		t.Errorf("RFC822.SIZE = %d, BODY[] is %d bytes", msgs[0].RFC822Size, len(body))
	}
}
