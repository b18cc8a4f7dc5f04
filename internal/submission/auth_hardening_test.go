package submission_test

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// Issue 13, items 3, 4, 5 and 7: logins that hold against an attacker.

func submissionConfig(f func(s *config.Submission)) testkit.Option {
	return func(c *config.Config) { f(&c.Submission) }
}

// TestAuth_NoUserEnumeration: after failures for bob@ (a mailbox) and for
// nobody@ (none) from four addresses, a fresh address gets the same
// 421 4.7.0, with the same text, without a hash, for both; the text blames
// the name, not the address. A name nobody has failed for is checked with
// one hash whether or not it exists.
func TestAuth_NoUserEnumeration(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) {
		l.LoginFailuresPerAddress = 100
		l.LoginFailuresPerMailbox = 4
	}))
	dial := dialFrom(t, s)
	texts := map[string]string{}
	for _, user := range []string{"bob@example.test", "nobody@example.test"} {
		for i := 0; i < 4; i++ {
			c := dial(fmt.Sprintf("127.0.0.%d", 2+i))
			r := c.AuthPlain(user, "guess")
			if i < 3 {
				c.Expect(r, 535, "5.7.3")
			} else {
				c.Expect(r, 421, "4.7.0") // the failure that locks the name
			}
			c.Close()
		}
		c := dial("127.0.0.9")
		before := s.Daemon.PasswordHashes()
		r := c.Expect(c.AuthPlain(user, pw), 421, "4.7.0")
		if n := s.Daemon.PasswordHashes() - before; n != 0 {
			t.Errorf("%s: %d hashes for a locked name", user, n)
		}
		if strings.Contains(r.Text, "from this address") || !strings.Contains(r.Text, "user name") {
			t.Errorf("%s: 421 text %q blames the address, or does not name the user name", user, r.Text)
		}
		if _, err := c.TryRead(); err == nil {
			t.Errorf("%s: connection open after 421", user)
		}
		texts[user] = r.Text[:strings.Index(r.Text, "try again after")]
	}
	if texts["bob@example.test"] != texts["nobody@example.test"] {
		t.Errorf("the replies differ: %q, %q", texts["bob@example.test"], texts["nobody@example.test"])
	}
	for _, user := range []string{"carol@example.test", "nobody2@example.test"} {
		c := dial("127.0.0.9")
		before := s.Daemon.PasswordHashes()
		c.Expect(c.AuthPlain(user, "guess"), 535, "5.7.3")
		if n := s.Daemon.PasswordHashes() - before; n != 1 {
			t.Errorf("%s: %d hashes, want 1", user, n)
		}
	}
}

// TestAuth_SuccessDoesNotClearAddressFailures: one valid account must not
// let an address alternate failures and a success for ever.
func TestAuth_SuccessDoesNotClearAddressFailures(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) { l.LoginFailuresPerAddress = 3 }))
	dial := dialFrom(t, s)
	c := dial("127.0.0.1")
	c.Expect(c.AuthPlain("bob@example.test", "guess-1"), 535, "5.7.3")
	c.Expect(c.AuthPlain("bob@example.test", "guess-2"), 535, "5.7.3")
	c = dial("127.0.0.1")
	c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0")
	c = dial("127.0.0.1")
	r := c.Expect(c.AuthPlain("bob@example.test", "guess-3"), 421, "4.7.0")
	if !strings.Contains(r.Text, "from this address") {
		t.Errorf("address block text %q", r.Text)
	}
}

// TestAuth_BurstCountedBeforeTheHash: 60 simultaneous AUTHs with wrong
// passwords from one address start no more password checks than the
// address may fail; the rest get 421 4.7.0 without a hash.
func TestAuth_BurstCountedBeforeTheHash(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) { l.LoginFailuresPerAddress = 10 }),
		submissionConfig(func(sc *config.Submission) {
			sc.MaxConnectionsPerAddress = 100
			sc.HashWait = config.Duration(time.Minute) // the assertion is on counts, never on time
		}))
	dial := dialFrom(t, s)
	conns := make([]*testkit.Conn, 60)
	for i := range conns {
		conns[i] = dial("127.0.0.1")
	}
	before := s.Daemon.PasswordHashes()
	replies := atOnce(conns, func(i int, c *testkit.Conn) testkit.Reply {
		return c.AuthPlain(fmt.Sprintf("user%d@example.test", i), "guess")
	})
	counts := map[string]int{}
	for _, r := range replies {
		counts[fmt.Sprintf("%d %s", r.Code, r.Enhanced)]++
	}
	if hashes := s.Daemon.PasswordHashes() - before; hashes > 10 {
		t.Errorf("%d password hashes for a burst from an address that may fail 10 times", hashes)
	}
	if counts["535 5.7.3"] > 9 || counts["535 5.7.3"]+counts["421 4.7.0"] != 60 {
		t.Errorf("replies %v, want at most 9 × 535 5.7.3 and the rest 421 4.7.0", counts)
	}
}

// TestAuth_HashSlotsBusy: with one hash slot and a wait of a millisecond,
// simultaneous logins from many addresses that find the slot taken get
// 454 4.7.0; they are not counted as failures, and the connection stays
// open for another try.
func TestAuth_HashSlotsBusy(t *testing.T) {
	s := testkit.Start(t, fixture, limitsConfig(func(l *config.Limits) { l.LoginFailuresPerAddress = 1 }),
		submissionConfig(func(sc *config.Submission) {
			sc.MaxConcurrentHashes = 1
			sc.HashWait = config.Duration(time.Millisecond)
		}))
	dial := dialFrom(t, s)
	conns := make([]*testkit.Conn, 30)
	for i := range conns {
		conns[i] = dial(fmt.Sprintf("127.0.1.%d", i+1))
	}
	replies := atOnce(conns, func(i int, c *testkit.Conn) testkit.Reply {
		return c.AuthPlain("alice@example.test", fmt.Sprintf("guess-%d", i)) // distinct: no shared hash
	})
	busy := 0
	for i, r := range replies {
		switch fmt.Sprintf("%d %s", r.Code, r.Enhanced) {
		case "454 4.7.0":
			busy++
			if !strings.HasPrefix(r.Text, "Temporary authentication failure") {
				t.Errorf("454 text %q", r.Text)
			}
			// Not counted: with login_failures_per_address = 1 a counted
			// failure would have blocked the address.
			conns[i].Expect(conns[i].AuthPlain("alice@example.test", pw), 235, "2.0.0")
		case "421 4.7.0": // the one failure this address may have
		default:
			t.Errorf("reply %v", r)
		}
	}
	if busy == 0 {
		t.Fatal("30 simultaneous logins with one hash slot and a 1ms wait: none got 454 4.7.0")
	}
}

// TestAuth_ConnectionCap: past max_connections_per_address the greeting
// is 421 4.7.0 naming the setting, and the connection closes; other
// addresses and, once one closes, the same address are served. On the
// implicit-TLS port a refused connection is closed before the handshake.
func TestAuth_ConnectionCap(t *testing.T) {
	s := testkit.Start(t, fixture, submissionConfig(func(sc *config.Submission) { sc.MaxConnectionsPerAddress = 2 }))
	first := testkit.DialFrom(t, s.Addr("submission"), "127.0.0.1")
	testkit.DialFrom(t, s.Addr("submission"), "127.0.0.1")
	r := refused(t, s.Addr("submission"), "127.0.0.1")
	if r.Code != 421 || r.Enhanced != "4.7.0" || !strings.Contains(r.Text, "submission.max_connections_per_address") {
		t.Fatalf("third connection: %v", r)
	}
	testkit.DialFrom(t, s.Addr("submission"), "127.0.0.2")
	if _, err := tls.Dial("tcp", s.Addr("submission_tls"), s.TLSConfig()); err == nil {
		t.Fatal("implicit TLS: a third connection from 127.0.0.1 was served")
	}
	first.Close()
	testkit.Eventually(t, "a connection slot returns when a connection closes", func() bool {
		c, err := net.Dial("tcp", s.Addr("submission"))
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		return strings.HasPrefix(line, "220 ")
	})
}

// TestAuth_ConnectionRate: past connection_rate_per_address new
// connections in a minute the greeting is 421 4.7.0 naming the setting and
// when to retry, and the connection closes.
func TestAuth_ConnectionRate(t *testing.T) {
	s := testkit.Start(t, fixture, submissionConfig(func(sc *config.Submission) { sc.ConnectionRatePerAddress = 3 }))
	for i := 0; i < 3; i++ {
		testkit.DialFrom(t, s.Addr("submission"), "127.0.0.1").Close()
	}
	r := refused(t, s.Addr("submission"), "127.0.0.1")
	if r.Code != 421 || r.Enhanced != "4.7.0" || !strings.Contains(r.Text, "submission.connection_rate_per_address") || !strings.Contains(r.Text, "try again after") {
		t.Fatalf("fourth connection in a minute: %v", r)
	}
	testkit.DialFrom(t, s.Addr("submission"), "127.0.0.2")
}

// refused dials addr from local and returns the one reply the server sends
// before it closes the connection.
func refused(t *testing.T, addr, local string) testkit.Reply {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("read the refusal: %v", err)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatalf("more after %q: the connection was not closed", line)
	}
	line = strings.TrimRight(line, "\r\n")
	f := strings.SplitN(line, " ", 3)
	if len(f) < 3 {
		t.Fatalf("reply %q", line)
	}
	var code int
	fmt.Sscanf(f[0], "%d", &code)
	return testkit.Reply{Code: code, Enhanced: f[1], Text: f[2], Lines: []string{line}}
}

// TestAuth_UserNameBounded: a user name of 10,000 octets is refused like
// any wrong login and reaches the log and the trace cut to 320 octets.
func TestAuth_UserNameBounded(t *testing.T) {
	s := testkit.Start(t, fixture)
	c := testkit.Ready(t, s, "alice@example.test", pw)
	c.Close()
	c = dialFrom(t, s)("127.0.0.1")
	long := strings.Repeat("x", 10000) + "@example.test"
	c.Expect(c.AuthPlain(long, "guess"), 535, "5.7.3")
	c.Expect(c.Cmd("AUTH LOGIN "+base64.StdEncoding.EncodeToString([]byte(long))), 334, "")
	c.Expect(c.Cmd(base64.StdEncoding.EncodeToString([]byte("guess"))), 535, "5.7.3")
	s.Daemon.FlushTrace()
	if strings.Contains(s.Log(), strings.Repeat("x", 321)) {
		t.Error("the log holds more than 320 octets of the user name")
	}
	evs, err := s.Store.SearchTrace(t.Context(), store.TraceFilter{Status: "refused"})
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range evs {
		if strings.HasPrefix(e.Mailbox, "xxx") {
			seen++
			if len(e.Mailbox) > 320 {
				t.Errorf("trace event with a %d-octet user name", len(e.Mailbox))
			}
		}
	}
	if seen != 2 {
		t.Errorf("%d trace events of the long name, want 2", seen)
	}
}

// TestAuth_SASL: the authorization identity compares normalized; a SASL
// message that does not parse gets 501 5.5.2, an unknown mechanism
// 504 5.5.4; a different authorization identity fails as a wrong
// password.
func TestAuth_SASL(t *testing.T) {
	s := testkit.Start(t, fixture)
	dial := dialFrom(t, s)
	plain := func(msg string) string { return "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte(msg)) }

	c := dial("127.0.0.1")
	c.Expect(c.Cmd(plain("ALICE@Example.TEST\x00alice@example.test\x00"+pw)), 235, "2.0.0")
	c = dial("127.0.0.1")
	c.Expect(c.Cmd(plain("bob@example.test\x00alice@example.test\x00"+pw)), 535, "5.7.3")
	c = dial("127.0.0.1")
	c.Expect(c.Cmd(plain("no NULs at all")), 501, "5.5.2")
	c.Expect(c.Cmd("AUTH PLAIN"), 334, "")
	c.Expect(c.Cmd(base64.StdEncoding.EncodeToString([]byte("one\x00NUL"))), 501, "5.5.2")
	c.Expect(c.Cmd("AUTH CRAM-MD5"), 504, "5.5.4")
	c.Expect(c.AuthPlain("alice@example.test", pw), 235, "2.0.0") // nothing above was counted or left open
}

// atOnce runs f on every connection at the same time and returns the
// replies in the connections' order.
func atOnce(conns []*testkit.Conn, f func(i int, c *testkit.Conn) testkit.Reply) []testkit.Reply {
	replies := make([]testkit.Reply, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { replies[i] = f(i, c) })
	}
	wg.Wait()
	return replies
}
