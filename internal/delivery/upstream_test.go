package delivery_test

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestDeliver_UnreachableSmarthost: a smarthost that cannot be reached is
// logged at WARN, and the DSN after max_age says the fault is this
// service's upstream, not the recipient's server.
func TestDeliver_UnreachableSmarthost(t *testing.T) {
	r := testkit.NewRemote(t)
	up := closedAddr(t)
	s := testkit.Start(t, fixture, testkit.WithRemote(r), withDelivery(func(d *config.Delivery) {
		d.Smarthost, d.SmarthostTLS = up, config.TLSNone
		d.DelayNotice = 0
		d.MaxAge = config.Duration(150 * time.Millisecond)
	}))
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"bob@remote.test"}, "Subject: via smarthost\n\nx\n")
	waitState(t, s, id, map[string]string{"bob@remote.test": store.StateFailed})
	if !regexp.MustCompile(`level=WARN msg="upstream unreachable[^"]*" queue_id=` + id + ` host=127\.0\.0\.1`).MatchString(s.Log()) {
		t.Errorf("no WARN for the unreachable smarthost:\n%s", s.Log())
	}
	testkit.Eventually(t, "the DSN arrives", func() bool { return len(s.Folder("alice@example.test", store.FolderInbox)) == 1 })
	dsn := s.Folder("alice@example.test", store.FolderInbox)[0]
	for _, want := range []string{"Status: 4.4.7", "The fault is on the sending side, not the recipient's", "upstream server 127.0.0.1"} {
		if !strings.Contains(dsn, want) {
			t.Errorf("DSN lacks %q:\n%s", want, dsn)
		}
	}
	if strings.Contains(dsn, "recipient's administrator") {
		t.Errorf("DSN sends the sender to the recipient's administrator for mailroom's own upstream:\n%s", dsn)
	}
}

// TestDeliver_RecipientServerStillTheRecipients: the same expiry at the
// recipient's own MX keeps pointing at the recipient's side, and an MX
// that cannot be reached is no WARN.
func TestDeliver_RecipientServerStillTheRecipients(t *testing.T) {
	r := testkit.NewRemote(t)
	r.MX(t, "slow.test", testkit.MXOptions{Rcpt: reject(421, smtp.EnhancedCode{4, 3, 2}, "never@slow.test")})
	s := testkit.Start(t, fixture, testkit.WithRemote(r), withDelivery(func(d *config.Delivery) {
		d.DelayNotice = 0
		d.MaxAge = config.Duration(150 * time.Millisecond)
	}))
	id := s.Send("alice@example.test", pw, "alice@example.test", []string{"never@slow.test"}, "Subject: never\n\nx\n")
	waitState(t, s, id, map[string]string{"never@slow.test": store.StateFailed})
	testkit.Eventually(t, "the DSN arrives", func() bool { return len(s.Folder("alice@example.test", store.FolderInbox)) == 1 })
	dsn := s.Folder("alice@example.test", store.FolderInbox)[0]
	if !strings.Contains(dsn, "recipient's administrator") || strings.Contains(dsn, "sending side") {
		t.Errorf("DSN for the recipient's server:\n%s", dsn)
	}
	if strings.Contains(s.Log(), "level=WARN msg=\"upstream unreachable") {
		t.Errorf("an MX was logged as mailroom's upstream:\n%s", s.Log())
	}
}
