package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"mailroom/internal/admin"
	"mailroom/internal/blob"
	"mailroom/internal/config"
	"mailroom/internal/daemon"
	"mailroom/internal/store"
	"mailroom/internal/store/postgres/pgtest"
	"mailroom/internal/testkit"
)

// cluster is two nodes on one PostgreSQL schema, each with its own data
// directory: message bodies are in PostgreSQL (store.bodies "auto"), so
// the nodes share no filesystem. Node A reaches the database through a
// proxy the test can cut, as if A died.
type cluster struct {
	dsn   string
	a, b  *testkit.Server
	proxy *pgtest.Proxy
}

// startCluster starts node A (which sets up the directory with setup) and
// then node B, both with opts. Skipped without a test database (README
// "PostgreSQL").
func startCluster(t *testing.T, setup func(*admin.Service), opts ...testkit.Option) *cluster {
	t.Helper()
	return startClusterNodes(t, setup, nil, nil, opts...)
}

// startClusterNodes is startCluster with options for one node only: onlyA
// and onlyB apply after opts.
func startClusterNodes(t *testing.T, setup func(*admin.Service), onlyA, onlyB []testkit.Option, opts ...testkit.Option) *cluster {
	t.Helper()
	dsn := pgtest.DSN(t)
	proxy := pgtest.NewProxy(t, dsn)
	node := func(dsn string, only []testkit.Option) []testkit.Option {
		o := append([]testkit.Option{testkit.WithPostgresDSN(dsn), testkit.WithDataDir(t.TempDir())}, opts...)
		return append(o, only...)
	}
	a := testkit.Start(t, setup, node(proxy.DSN, onlyA)...)
	b := testkit.Start(t, nil, node(dsn, onlyB)...)
	return &cluster{dsn: dsn, a: a, b: b, proxy: proxy}
}

// leases returns the lease rows of the cluster's schema: id → lease_until.
func (c *cluster) leases(t *testing.T) map[int64]int64 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT id, lease_until FROM limit_leases`)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[int64]int64)
	var id, until int64
	if _, err := pgx.ForEachRow(rows, []any{&id, &until}, func() error { out[id] = until; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCluster_TwentyClientsThreeSlots: 20 connections of one mailbox,
// alternately on the two nodes, send MAIL FROM at once; exactly 3 get 250
// and 17 get 432 4.3.2. A slot freed on one node is taken on the other.
func TestCluster_TwentyClientsThreeSlots(t *testing.T) {
	c := startCluster(t, fixture)
	conns := make([]*testkit.Conn, 20)
	for i := range conns {
		conns[i] = testkit.Ready(t, []*testkit.Server{c.a, c.b}[i%2], "alice@example.test", pw)
	}
	replies := make([]testkit.Reply, len(conns))
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Go(func() { replies[i] = conn.Cmd("MAIL FROM:<alice@example.test>") })
	}
	wg.Wait()
	var holders, waiting []*testkit.Conn
	for i, r := range replies {
		switch {
		case r.Code == 250:
			holders = append(holders, conns[i])
		case r.Code == 432 && r.Enhanced == "4.3.2" && strings.Contains(r.Text, "sender thread limit exceeded"):
			waiting = append(waiting, conns[i])
		default:
			t.Fatalf("unexpected reply %q", r)
		}
	}
	if len(holders) != 3 || len(waiting) != 17 {
		t.Fatalf("%d got a slot and %d were refused; want 3 and 17", len(holders), len(waiting))
	}
	// What `mailroom mailbox show` prints counts both nodes.
	if st, err := c.b.Admin.LimitStatus(t.Context(), "alice@example.test", time.Now()); err != nil || st.Usage.InFlight != 3 || !st.Live {
		t.Fatalf("limit status %+v, %v; want 3 in flight", st, err)
	}
	// Still full, from either node.
	for _, w := range waiting[:4] {
		w.MustCmd("MAIL FROM:<alice@example.test>", 432, "4.3.2")
	}
	// A slot freed (RSET) is there for a client of either node, once.
	holders[0].MustCmd("RSET", 250, "")
	got := 0
	for _, w := range waiting {
		if w.Cmd("MAIL FROM:<alice@example.test>").Code == 250 {
			got++
		}
	}
	if got != 1 {
		t.Fatalf("after one RSET %d clients got a slot, want 1", got)
	}
}

// TestCluster_DailyBudgetShared: with a budget of 5 recipients a day, 3
// accepted through node A leave 2 for node B, which refuses the third with
// 452 4.5.3 (and so does A).
func TestCluster_DailyBudgetShared(t *testing.T) {
	c := startCluster(t, fixture, func(cfg *config.Config) { cfg.Limits.RecipientsPerDay = 5 })
	a := testkit.Ready(t, c.a, "alice@example.test", pw)
	a.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	for i := range 3 {
		a.MustCmd(fmt.Sprintf("RCPT TO:<carol+%d@example.test>", i), 250, "")
	}
	a.Expect(a.SendData("From: alice@example.test\nSubject: three\n\nx\n"), 250, "2.0.0")

	b := testkit.Ready(t, c.b, "alice@example.test", pw)
	b.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	b.MustCmd("RCPT TO:<carol+3@example.test>", 250, "")
	b.MustCmd("RCPT TO:<carol+4@example.test>", 250, "")
	r := b.MustCmd("RCPT TO:<carol+5@example.test>", 452, "4.5.3")
	if !strings.Contains(r.Text, "5") {
		t.Errorf("refusal %q does not name the limit", r)
	}
	// B's two reservations count on A while B's transaction is open.
	a.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	a.MustCmd("RCPT TO:<carol+6@example.test>", 452, "4.5.3")
	a.MustCmd("RSET", 250, "")
	// Aborted, B's reservations return to the budget.
	b.MustCmd("RSET", 250, "")
	a.MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	a.MustCmd("RCPT TO:<carol+7@example.test>", 250, "")
}

// TestCluster_RateShared: with 2 messages a minute, one accepted through
// each node leaves none: the next MAIL FROM on either gets 450 4.7.0.
func TestCluster_RateShared(t *testing.T) {
	c := startCluster(t, fixture, func(cfg *config.Config) { cfg.Limits.MessagesPerMinute = 2 })
	for _, node := range []*testkit.Server{c.a, c.b} {
		node.Send("alice@example.test", pw, "alice@example.test", []string{"carol@example.test"}, "From: alice@example.test\nSubject: r\n\nx\n")
	}
	for _, node := range []*testkit.Server{c.a, c.b} {
		r := testkit.Ready(t, node, "alice@example.test", pw).MustCmd("MAIL FROM:<alice@example.test>", 450, "4.7.0")
		if !strings.Contains(r.Text, "2") {
			t.Errorf("refusal %q does not name the limit", r)
		}
	}
}

// TestCluster_DeliveredOnce: messages accepted by both nodes, whose queue
// workers both run, reach the remote MX once per envelope recipient.
func TestCluster_DeliveredOnce(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{})
	c := startCluster(t, fixture, testkit.WithRemote(r))
	const messages = 20
	want := make(map[string]int)
	var ids []string
	for i := range messages {
		node := []*testkit.Server{c.a, c.b}[i%2]
		rcpts := []string{fmt.Sprintf("x%d@remote.test", i), fmt.Sprintf("y%d@remote.test", i)}
		ids = append(ids, node.Send("alice@example.test", pw, "alice@example.test", rcpts,
			fmt.Sprintf("From: alice@example.test\nSubject: m%d\n\nx\n", i)))
		for _, rc := range rcpts {
			want[rc] = 1
		}
	}
	testkit.Eventually(t, "every recipient is delivered", func() bool {
		for _, id := range ids {
			for _, st := range c.a.QueueStates(id) {
				if st != store.StateDelivered {
					return false
				}
			}
		}
		return true
	})
	got := make(map[string]int)
	for _, m := range mx.Accepted() {
		for _, rc := range m.Rcpts {
			got[rc]++
		}
	}
	if len(got) != len(want) {
		t.Fatalf("MX got %d recipients, want %d", len(got), len(want))
	}
	for rc, n := range got {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", rc, n)
		}
	}
	// Both nodes' workers took part (the queue is shared, not partitioned
	// by who accepted): not asserted, it depends on scheduling.
}

// TestCluster_DeadNodeFreesSlots: node A holds all 3 slots of a mailbox
// and keeps them past the lease TTL while it renews; cut off the
// database (as if it died) it stops renewing, and node B gets the 3 slots
// once the leases expire — and no fourth.
func TestCluster_DeadNodeFreesSlots(t *testing.T) {
	const ttl = 2 * time.Second
	c := startCluster(t, fixture, func(cfg *config.Config) { cfg.Store.LeaseTTL = config.Duration(ttl) })
	for range 3 {
		testkit.Ready(t, c.a, "alice@example.test", pw).MustCmd("MAIL FROM:<alice@example.test>", 250, "")
	}
	first := c.leases(t)
	if len(first) != 3 {
		t.Fatalf("%d leases, want 3", len(first))
	}
	testkit.Eventually(t, "node A renews its leases", func() bool {
		now := c.leases(t)
		for id, until := range first {
			if now[id] <= until {
				return false
			}
		}
		return true
	})
	b := make([]*testkit.Conn, 4)
	for i := range b {
		b[i] = testkit.Ready(t, c.b, "alice@example.test", pw)
	}
	b[0].MustCmd("MAIL FROM:<alice@example.test>", 432, "4.3.2")

	c.proxy.Cut() // node A dies: no renewal, no release
	start := time.Now()
	got := 0
	testkit.Eventually(t, "node B gets the dead node's 3 slots", func() bool {
		if b[got].Cmd("MAIL FROM:<alice@example.test>").Code == 250 {
			got++
		}
		return got == 3
	})
	t.Logf("slots free %v after node A was cut off (lease_ttl %v)", time.Since(start).Round(10*time.Millisecond), ttl)
	b[3].MustCmd("MAIL FROM:<alice@example.test>", 432, "4.3.2")
}

// TestCluster_GrantRevokedEverywhere: a grant revoked through one node's
// database handle holds on the other node as soon as it reloads (notified
// by PostgreSQL, the poll as fallback).
func TestCluster_GrantRevokedEverywhere(t *testing.T) {
	c := startCluster(t, func(a *admin.Service) {
		fixture(a)
		ctx := context.Background()
		testkit.MustAdd(t, func() error {
			_, _, err := a.AddMailbox(ctx, admin.NewMailbox{Address: "info@example.test", Shared: true})
			return err
		}())
		_, err := a.AddGrant(ctx, admin.GrantSpec{Kind: store.GrantSendAs, On: "info@example.test", To: "alice@example.test"})
		testkit.MustAdd(t, err)
	})
	b := testkit.Ready(t, c.b, "alice@example.test", pw)
	b.MustCmd("MAIL FROM:<info@example.test>", 250, "")
	b.MustCmd("RSET", 250, "")
	revoked := time.Now()
	testkit.MustAdd(t, c.a.Admin.RevokeGrant(t.Context(), admin.GrantSpec{Kind: store.GrantSendAs, On: "info@example.test", To: "alice@example.test"}))
	c.b.SyncDirectory()
	t.Logf("node B loaded the revocation %v after it was written", time.Since(revoked).Round(time.Millisecond))
	b.MustCmd("MAIL FROM:<info@example.test>", 550, "5.7.60")
}

// TestCluster_BodiesInPostgres: node A accepts a small message and a
// large one (several body parts) for a remote domain but cannot deliver
// (its resolver fails every question); node B, which can, delivers both
// with their exact bodies, read from PostgreSQL: the nodes share no
// directory, and node A wrote no body to its own.
func TestCluster_BodiesInPostgres(t *testing.T) {
	r := testkit.NewRemote(t)
	mx := r.MX(t, "remote.test", testkit.MXOptions{})
	// A attempts what it accepts at once, fails (SERVFAIL), and would wait
	// an hour; it polls hourly, so B (polling every 20 ms) gets the retries.
	hourly := func(cfg *config.Config) {
		cfg.Delivery.RetrySchedule = []config.Duration{config.Duration(time.Hour)}
		cfg.Delivery.QueuePoll = config.Duration(time.Hour)
	}
	fastPoll := func(cfg *config.Config) { cfg.Delivery.QueuePoll = config.Duration(20 * time.Millisecond) }
	c := startClusterNodes(t, fixture, []testkit.Option{hourly}, []testkit.Option{testkit.WithRemote(r), fastPoll})

	marker := fmt.Sprintf("body-marker-%d", time.Now().UnixNano())
	small := "From: alice@example.test\nTo: x@remote.test\nSubject: small\n\nsmall " + marker + "\n"
	var large strings.Builder
	large.WriteString("From: alice@example.test\nTo: y@remote.test\nSubject: large\n\n")
	for i := 0; large.Len() < 5<<19; i++ { // 2.5 MiB: three parts of store.BodyPartSize
		fmt.Fprintf(&large, "line %06d %s %s\n", i, marker, strings.Repeat("x", 40))
	}
	lastLine := "the last line " + marker
	large.WriteString(lastLine + "\n")
	msgs := []struct{ rcpt, text, id string }{
		{rcpt: "x@remote.test", text: small},
		{rcpt: "y@remote.test", text: large.String()},
	}
	for i := range msgs {
		msgs[i].id = c.a.Send("alice@example.test", pw, "alice@example.test", []string{msgs[i].rcpt}, msgs[i].text)
	}

	// Whatever A attempted and put off for an hour is made due again
	// (mailroom queue retry) until B has delivered everything: A's resolver
	// knows no remote.test, so every delivery the MX sees is B's.
	testkit.Eventually(t, "node B delivers both messages", func() bool {
		done := true
		for _, m := range msgs {
			rows, err := c.b.Store.QueueRows(t.Context(), m.id)
			if err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				if row.State == store.StateFailed {
					t.Fatalf("%s failed: %s", row.Recipient, row.LastReply)
				}
				if row.State == store.StateDelivered {
					continue
				}
				done = false
				if row.NextAttemptAt.After(time.Now().Add(time.Minute)) {
					if _, err := c.b.Admin.RetryQueue(t.Context(), admin.QueueSelection{ID: m.id}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		return done
	})

	// The MX got each message once, with the body exactly as submitted.
	got := map[string][][]byte{}
	for _, m := range mx.Accepted() {
		for _, rc := range m.Rcpts {
			got[rc] = append(got[rc], m.Data)
		}
	}
	for _, m := range msgs {
		if len(got[m.rcpt]) != 1 {
			t.Fatalf("MX got %d messages for %s, want 1", len(got[m.rcpt]), m.rcpt)
		}
		data := got[m.rcpt][0]
		if want := crlfBody(m.text); !bytes.Equal(messageBody(t, data), want) {
			t.Errorf("body delivered to %s: %d bytes, want the %d submitted", m.rcpt, len(messageBody(t, data)), len(want))
		}
		if m.rcpt == "y@remote.test" && !bytes.HasSuffix(data, []byte(lastLine+"\r\n")) {
			t.Errorf("large message delivered without its last line; it ends %q", data[max(0, len(data)-80):])
		}
	}

	// Node B reads the Sent Items copies of what A accepted: by its body
	// store, and by its JSON API.
	_, tok, err := c.b.Admin.AddToken(t.Context(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := c.b.Store.Mailbox(t.Context(), "alice@example.test")
	if err != nil {
		t.Fatal(err)
	}
	sent, err := c.b.Store.FolderEntries(t.Context(), mb.ID, store.FolderSent)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		var e *store.FolderEntry
		for i := range sent {
			if sent[i].MessageID == m.id {
				e = &sent[i]
			}
		}
		if e == nil {
			t.Fatalf("no Sent Items entry for %s", m.id)
		}
		copyB, err := c.b.Body(e.Blob)
		if err != nil {
			t.Fatalf("node B reads the Sent Items copy of %s: %v", m.id, err)
		}
		if int64(len(copyB)) != e.Size || !bytes.Equal(messageBody(t, copyB), crlfBody(m.text)) {
			t.Errorf("Sent Items copy of %s read on node B: %d bytes (entry says %d), body differs from the submitted one", m.id, len(copyB), e.Size)
		}
		raw := apiGet(t, c.b, tok, "/api/v1/mailboxes/alice@example.test/folders/sent/"+m.id+"/raw")
		if !bytes.Equal(raw, copyB) {
			t.Errorf("raw download of %s from node B: %d bytes, want the %d of the Sent Items copy", m.id, len(raw), len(copyB))
		}
		// Stored in PostgreSQL, in parts of at most store.BodyPartSize.
		if n, want := c.bodyParts(t, e.Blob), (len(copyB)+store.BodyPartSize-1)/store.BodyPartSize; n != want {
			t.Errorf("body %s (%d bytes) is %d parts in PostgreSQL, want %d", e.Blob, len(copyB), n, want)
		}
	}

	// No body reached either node's data directory: no blob files, nothing
	// left spooled, no file holding the marker.
	for name, node := range map[string]*testkit.Server{"A": c.a, "B": c.b} {
		dir := node.DataDir()
		if n, err := blob.Count(filepath.Join(dir, "blobs")); err == nil && n > 0 {
			t.Errorf("node %s has %d body files under %s/blobs", name, n, dir)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(marker)) {
				t.Errorf("node %s's data directory holds a message body: %s", name, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// messageBody is what follows the header of a message.
func messageBody(t *testing.T, msg []byte) []byte {
	t.Helper()
	_, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("message without a header/body separator: %q", msg[:min(len(msg), 200)])
	}
	return body
}

// crlfBody is the body of a message as a test writes it (LF line ends),
// with the CRLF line ends it has on the wire.
func crlfBody(msg string) []byte {
	_, body, _ := strings.Cut(msg, "\n\n")
	return []byte(strings.ReplaceAll(body, "\n", "\r\n"))
}

// apiGet GETs path from node's JSON API with the bearer token tok and
// returns the response body, failing the test unless it is 200.
func apiGet(t *testing.T, node *testkit.Server, tok, path string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+node.Addr(daemon.ListenHTTP)+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v %.200s", path, resp.StatusCode, err, b)
	}
	return b
}

// bodyParts returns how many parts of the body key the database holds.
func (c *cluster) bodyParts(t *testing.T, key string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM bodies WHERE key = $1`, key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
