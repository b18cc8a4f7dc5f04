//go:build crash

package crashtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailroom/internal/admin"
	"mailroom/internal/blob"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

const (
	domain   = "crash.test"
	sender   = "sender@crash.test"
	password = "crash-test-password"
	// workers is also limits.concurrent, so every client can always hold a
	// slot, and the slot check at the end opens exactly that many.
	workers = 4
)

var recipients = []string{"r1@crash.test", "r2@crash.test", "r3@crash.test"}

// attempt is one transaction a client tried, and how far it got.
type attempt struct {
	msgID     string // the Message-ID it carried, unique per attempt
	rcpts     []string
	abandoned bool // the client vanished mid-DATA on purpose
	res       testkit.Result
}

// TestCrash_KillNine: clients submit concurrently while the server is
// killed with SIGKILL at random moments and restarted; at the end every
// 250 is in the store exactly once with all its queue rows and its body,
// nothing stored lacks its rows, entries or body, nothing is stored that
// the client did not send to the final dot, no concurrency slot leaked and
// the submission log matches the stored messages.
func TestCrash_KillNine(t *testing.T) {
	kills := envInt(t, "MAILROOM_CRASH_KILLS", 20)
	seed := uint64(envInt(t, "MAILROOM_CRASH_SEED", int(time.Now().UnixNano()&0x7fffffff)))
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("kills=%d seed=%d (set MAILROOM_CRASH_SEED=%d to replay the schedule)", kills, seed, seed)

	h := newHarness(t)
	h.start()
	tlsConfig := h.tlsConfig()
	board := newUpBoard()
	board.up()

	var (
		mu       sync.Mutex
		attempts []*attempt
		acked    atomic.Int64
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w+1)))
			n := 0
			for {
				gen, ok := board.wait(stop)
				if !ok {
					return
				}
				c, err := testkit.DialSubmission(h.addr, tlsConfig, sender, password)
				if err != nil {
					board.waitAfter(gen, stop) // killed: wait for the restart
					continue
				}
				for {
					select {
					case <-stop:
						c.Close()
						return
					default:
					}
					n++
					a := &attempt{msgID: fmt.Sprintf("w%d-%d@%s", w, n, domain), rcpts: pick(r)}
					body := message(a.msgID, r)
					if r.IntN(20) == 0 {
						a.abandoned = true
						a.res = c.Abandon(sender, a.rcpts, body)
					} else {
						a.res = c.Send(sender, a.rcpts, body)
					}
					mu.Lock()
					attempts = append(attempts, a)
					mu.Unlock()
					if a.res.Accepted() {
						acked.Add(1)
					}
					if a.abandoned || a.res.Err != nil || a.res.Reply.Code == 421 {
						c.Close()
						break
					}
				}
			}
		}()
	}

	for range kills {
		// A random moment: from just after the start (clients still
		// logging in) to well into a run of submissions.
		time.Sleep(time.Duration(20+rng.IntN(600)) * time.Millisecond)
		board.down()
		h.kill()
		h.start()
		board.up()
	}
	// The last run: let the clients get well going, then stop them.
	waitUntil(t, 60*time.Second, "20 more messages accepted after the last restart", func(n int64) func() bool {
		return func() bool { return acked.Load() >= n+20 }
	}(acked.Load()))
	close(stop)
	wg.Wait()
	h.checkSlots(tlsConfig)
	h.stop()

	v := h.verify(attempts)
	t.Logf("kills %d, attempts %d, 250s %d, stored %d (of which committed but the 250 lost to a kill: %d), abandoned mid-DATA %d, other refusals %v, transport errors %d, orphan body files %d",
		kills, len(attempts), v.acked, v.stored, v.lostReplies, v.abandoned, v.refusals, v.transport, v.orphans)
	if v.acked < kills {
		t.Errorf("only %d messages were accepted over %d kills: the test did not exercise much", v.acked, kills)
	}

	// What got a 250 is readable over IMAP after the restart: the sender's
	// Sent Items copy was written with the message.
	h.start()
	h.checkIMAP(attempts, tlsConfig)
	h.stop()
}

// checkIMAP logs in over IMAP as the sender and finds, in Sent Items,
// every message that got a 250, each once.
func (h *harness) checkIMAP(attempts []*attempt, cfg *tls.Config) {
	t := h.t
	t.Helper()
	c, err := imapclient.DialTLS(h.imap, &imapclient.Options{TLSConfig: cfg})
	if err != nil {
		t.Fatalf("dial IMAP: %v", err)
	}
	defer c.Close()
	if err := c.Login(sender, password).Wait(); err != nil {
		t.Fatalf("IMAP login: %v", err)
	}
	sel, err := c.Select("Sent Items", &goimap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatalf("select Sent Items: %v", err)
	}
	seen := map[string]int{}
	if sel.NumMessages > 0 {
		msgs, err := c.Fetch(goimap.SeqSet{{Start: 1, Stop: 0}}, &goimap.FetchOptions{Envelope: true}).Collect()
		if err != nil {
			t.Fatalf("fetch Sent Items: %v", err)
		}
		for _, m := range msgs {
			seen[m.Envelope.MessageID]++
		}
	}
	var acked int
	for _, a := range attempts {
		if !a.res.Accepted() {
			continue
		}
		acked++
		if n := seen[a.msgID]; n != 1 {
			t.Errorf("%s got 250 as %s; Sent Items over IMAP holds it %d times", a.msgID, a.res.ID, n)
		}
	}
	t.Logf("IMAP after the last restart: Sent Items holds %d messages, every one of the %d 250s once", sel.NumMessages, acked)
	_ = c.Logout().Wait()
}

// verdict sums up the final store against what the clients saw.
type verdict struct {
	acked, stored, lostReplies, abandoned, transport, orphans int
	refusals                                                  map[int]int
}

// verify opens the store of the stopped server and checks every promise.
func (h *harness) verify(attempts []*attempt) verdict {
	t := h.t
	ctx := context.Background()
	cfg, err := config.Load(h.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := admin.OpenStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	blobDir := filepath.Join(cfg.DataPath(), "blobs")
	blobs, files, err := admin.OpenBodies(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	if files != nil {
		defer files.Close()
	}

	v := verdict{refusals: map[int]int{}}
	byMsgID := map[string]*attempt{}
	for _, a := range attempts {
		byMsgID[a.msgID] = a
		switch {
		case a.res.Accepted():
			v.acked++
		case a.abandoned:
			v.abandoned++
		case a.res.Err != nil:
			v.transport++
		default:
			v.refusals[a.res.Reply.Code]++
		}
	}

	// Every message the queue names, with its rows.
	rows, err := st.QueueRows(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	rowsOf := map[string][]string{}
	for _, r := range rows {
		rowsOf[r.MessageID] = append(rowsOf[r.MessageID], r.Recipient)
	}
	msgs := map[string]store.Message{}
	storedAs := map[string][]string{} // Message-ID → queue ids
	referenced := map[string]bool{}
	for id, rcpts := range rowsOf {
		m, err := st.Message(ctx, id)
		if err != nil {
			t.Errorf("queue rows %v without their message %s: %v", rcpts, id, err)
			continue
		}
		msgs[id] = m
		storedAs[m.MessageID] = append(storedAs[m.MessageID], id)
		referenced[m.Blob], referenced[m.DeliveryBlob] = true, true
		body, err := readBody(blobs, m.Blob)
		if err != nil {
			t.Errorf("message %s without its body: %v", id, err)
		} else if int64(len(body)) != m.Size || !strings.HasSuffix(string(body), "end of "+m.MessageID+"\r\n") {
			t.Errorf("message %s: body of %d bytes (row says %d) is not the whole message", id, len(body), m.Size)
		}
		if _, err := readBody(blobs, m.DeliveryBlob); err != nil {
			t.Errorf("message %s without its delivery copy: %v", id, err)
		}
		a := byMsgID[m.MessageID]
		switch {
		case a == nil:
			t.Errorf("message %s carries Message-ID %s, which no client sent", id, m.MessageID)
		case a.res.Accepted():
			if a.res.ID != id {
				t.Errorf("%s got 250 as %s but is stored as %s", a.msgID, a.res.ID, id)
			}
		case a.res.Stage == testkit.StageDot && !a.abandoned:
			v.lostReplies++ // committed, then killed before the reply reached the client
		default:
			t.Errorf("%s is stored as %s, but the client got %q (%v) at stage %d, abandoned=%v: nothing unacknowledged may be stored unless the final dot was sent",
				a.msgID, id, a.res.Reply, a.res.Err, a.res.Stage, a.abandoned)
		}
		if a != nil && !sameSet(a.rcpts, rcpts) {
			t.Errorf("%s: queue rows for %v, the client sent RCPT TO %v", id, rcpts, a.rcpts)
		}
	}
	v.stored = len(msgs)
	for msgID, ids := range storedAs {
		if len(ids) > 1 {
			t.Errorf("%s is stored %d times: %v", msgID, len(ids), ids)
		}
	}
	for _, a := range attempts {
		if a.res.Accepted() {
			if m, ok := msgs[a.res.ID]; !ok || m.MessageID != a.msgID {
				t.Errorf("%s got 250 as %s, but the store does not have it", a.msgID, a.res.ID)
			}
		}
	}

	// Folder entries: one Sent Items entry per message, one Inbox entry per
	// local recipient, none pointing at a message the queue does not know.
	mb, err := st.Mailbox(ctx, sender)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := st.FolderEntries(ctx, mb.ID, store.FolderSent)
	if err != nil {
		t.Fatal(err)
	}
	sentOf := map[string]int{}
	for _, e := range sent {
		sentOf[e.MessageID]++
		if _, ok := msgs[e.MessageID]; !ok {
			t.Errorf("Sent Items entry for %s, a message without queue rows", e.MessageID)
		}
	}
	inboxOf := map[string]int{}
	for _, rc := range recipients {
		rmb, err := st.Mailbox(ctx, rc)
		if err != nil {
			t.Fatal(err)
		}
		ents, err := st.FolderEntries(ctx, rmb.ID, store.FolderInbox)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			inboxOf[e.MessageID]++
			if _, ok := msgs[e.MessageID]; !ok {
				t.Errorf("%s Inbox entry for %s, a message without queue rows", rc, e.MessageID)
			}
		}
	}
	for id := range msgs {
		if sentOf[id] != 1 || inboxOf[id] != len(rowsOf[id]) {
			t.Errorf("message %s: %d Sent Items entries, %d Inbox entries for %d recipients", id, sentOf[id], inboxOf[id], len(rowsOf[id]))
		}
	}

	// The submission log (the durable basis of the rate and recipient
	// counters) has one record per stored message, with its recipients.
	recs, err := st.SubmissionLog(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	nrcpt := 0
	for _, r := range recs {
		nrcpt += r.Recipients
	}
	if len(recs) != len(msgs) || nrcpt != len(rows) {
		t.Errorf("submission log: %d records for %d recipients; the store has %d messages with %d queue rows", len(recs), nrcpt, len(msgs), len(rows))
	}

	// Bodies no row names: a large body is fsynced before its rows commit,
	// so a kill in between leaves one behind (disk, not mail, is lost);
	// small bodies commit with their rows and never do. Temporary files
	// are removed at every start.
	err = filepath.WalkDir(blobDir, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary body file %s left after a clean stop", e.Name())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = blobs.Walk("", func(key string, _ time.Time) error {
		if !referenced[key] {
			v.orphans++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if max := 2 * workers * (envInt(t, "MAILROOM_CRASH_KILLS", 20) + 1); v.orphans > max {
		t.Errorf("%d orphan body files, more than the %d transactions that can be in flight at the kills", v.orphans, max)
	}
	return v
}

// harness runs the mailroom binary.
type harness struct {
	t       *testing.T
	bin     string
	dir     string
	cfgPath string
	addr    string
	imap    string // the implicit-TLS IMAP listener
	log     *os.File
	cmd     *exec.Cmd
	exited  chan error
}

func newHarness(t *testing.T) *harness {
	dir := t.TempDir()
	// The binary is cmd/mailroom under another name, so that a `pkill
	// mailroom` or `killall mailroom` elsewhere on a shared machine does not
	// stop it mid-test (which would look like a crash bug).
	h := &harness{t: t, dir: dir, bin: filepath.Join(dir, "crashserver"), cfgPath: filepath.Join(dir, "server.toml")}
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if out, err := exec.Command(gobin, "build", "-o", h.bin, "mailroom/cmd/mailroom").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	h.addr, h.imap = freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`data_dir = "data"
hostname = "mail.%s"

[submission]
listen = %q
listen_tls = ""
shutdown_grace = "5s"

[http]
listen = ""

[imap]
listen_tls = %q

[limits]
concurrent = %d
messages_per_minute = 1000000
recipients_per_day = 100000000
`, domain, h.addr, h.imap, workers)
	if err := os.WriteFile(h.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Admin commands never create the data directory (serve does).
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o750); err != nil {
		t.Fatal(err)
	}
	h.cli("", "domain", "add", domain)
	h.cli(password+"\n", "mailbox", "add", sender, "--password-stdin")
	for _, r := range recipients {
		h.cli("", "mailbox", "add", r)
	}
	if h.log, err = os.Create(filepath.Join(dir, "server.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if h.cmd != nil && h.cmd.ProcessState == nil {
			_ = h.cmd.Process.Kill()
			<-h.exited
		}
		h.log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(h.log.Name())
			if i := strings.LastIndex(string(b), "--- start"); i > 0 {
				b = b[i:]
			}
			if len(b) > 20000 {
				b = b[len(b)-20000:]
			}
			t.Logf("server log (tail):\n%s", b)
		}
	})
	return h
}

// cli runs an admin command of the binary.
func (h *harness) cli(stdin string, args ...string) {
	h.t.Helper()
	cmd := exec.Command(h.bin, append(args, "--config", h.cfgPath)...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		h.t.Fatalf("mailroom %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// start runs `mailroom serve` and waits until it greets.
func (h *harness) start() {
	h.t.Helper()
	fmt.Fprintf(h.log, "--- start %s\n", time.Now().Format(time.RFC3339Nano))
	h.cmd = exec.Command(h.bin, "serve", "--config", h.cfgPath)
	h.cmd.Stdout, h.cmd.Stderr = h.log, h.log
	if err := h.cmd.Start(); err != nil {
		h.t.Fatalf("start server: %v", err)
	}
	exited := make(chan error, 1)
	h.exited = exited
	go func(cmd *exec.Cmd) { exited <- cmd.Wait() }(h.cmd)
	waitUntil(h.t, 30*time.Second, "the server greets on "+h.addr, func() bool {
		select {
		case err := <-exited:
			h.t.Fatalf("server exited at start: %v", err)
		default:
		}
		c, err := net.DialTimeout("tcp", h.addr, time.Second)
		if err != nil {
			return false
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 4)
		_, err = c.Read(b)
		return err == nil && string(b[:3]) == "220"
	})
}

// kill sends SIGKILL to the server and waits for it to be gone.
func (h *harness) kill() {
	h.t.Helper()
	select {
	case err := <-h.exited:
		h.t.Fatalf("the server exited by itself before the kill: %v", err)
	default:
	}
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		h.t.Fatalf("kill: %v", err)
	}
	<-h.exited
	fmt.Fprintf(h.log, "--- SIGKILL %s\n", time.Now().Format(time.RFC3339Nano))
}

// stop sends SIGTERM and expects a clean exit.
func (h *harness) stop() {
	h.t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		h.t.Fatalf("stop: %v", err)
	}
	if err := <-h.exited; err != nil {
		h.t.Fatalf("server did not stop cleanly: %v", err)
	}
}

// tlsConfig trusts the certificate the server made at its first start.
func (h *harness) tlsConfig() *tls.Config {
	pem, err := os.ReadFile(filepath.Join(h.dir, "data", "tls", "cert.pem"))
	if err != nil {
		h.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return &tls.Config{RootCAs: pool, ServerName: "localhost"}
}

// checkSlots opens `workers` (= limits.concurrent) transactions at once:
// with the clients gone, every slot must be free again, whatever the
// kills and the abandoned transactions did.
func (h *harness) checkSlots(cfg *tls.Config) {
	h.t.Helper()
	conns := make([]*testkit.Client, workers)
	open := make([]bool, workers)
	for i := range conns {
		c, err := testkit.DialSubmission(h.addr, cfg, sender, password)
		if err != nil {
			h.t.Fatalf("slot check: %v", err)
		}
		defer c.Close()
		conns[i] = c
	}
	waitUntil(h.t, 10*time.Second, fmt.Sprintf("%d transactions open at once", workers), func() bool {
		all := true
		for i, c := range conns {
			if open[i] {
				continue
			}
			r, err := c.Cmd("MAIL FROM:<" + sender + ">")
			if err != nil {
				h.t.Fatalf("slot check: %v", err)
			}
			open[i] = r.Code == 250
			all = all && open[i]
		}
		return all
	})
}

// upBoard tells clients whether the server is up, and which start it is.
type upBoard struct {
	mu   sync.Mutex
	gen  int
	isUp bool
	ch   chan struct{} // closed at the next change
}

func newUpBoard() *upBoard { return &upBoard{ch: make(chan struct{})} }

func (b *upBoard) set(up bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if up {
		b.gen++
	}
	b.isUp = up
	close(b.ch)
	b.ch = make(chan struct{})
}

func (b *upBoard) up()   { b.set(true) }
func (b *upBoard) down() { b.set(false) }

// wait returns the current start once the server is up, or false at stop.
func (b *upBoard) wait(stop <-chan struct{}) (int, bool) {
	for {
		b.mu.Lock()
		gen, up, ch := b.gen, b.isUp, b.ch
		b.mu.Unlock()
		select {
		case <-stop:
			return 0, false
		default:
		}
		if up {
			return gen, true
		}
		select {
		case <-ch:
		case <-stop:
			return 0, false
		}
	}
}

// waitAfter returns once a start later than gen is up, or at stop.
func (b *upBoard) waitAfter(gen int, stop <-chan struct{}) {
	for {
		b.mu.Lock()
		cur, up, ch := b.gen, b.isUp, b.ch
		b.mu.Unlock()
		if cur > gen && up {
			return
		}
		select {
		case <-ch:
		case <-stop:
			return
		}
	}
}

// pick returns one to three distinct local recipients.
func pick(r *rand.Rand) []string {
	rc := slices.Clone(recipients)
	r.Shuffle(len(rc), func(i, j int) { rc[i], rc[j] = rc[j], rc[i] })
	return rc[:1+r.IntN(len(rc))]
}

// message is a message of random size whose last line names it, so a
// truncated body shows.
func message(msgID string, r *rand.Rand) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\nMessage-ID: <%s>\nSubject: crash test %s\n\n", sender, msgID, msgID)
	lines := r.IntN(300)
	if r.IntN(5) == 0 { // over 256 KiB: a body file rather than a database row
		lines = 4500 + r.IntN(2000)
	}
	for range lines {
		b.WriteString("The quick brown fox jumps over the lazy dog, again and again.\n")
	}
	b.WriteString("end of " + msgID + "\n")
	return b.String()
}

// readBody reads a stored body whole.
func readBody(blobs blob.Store, key string) ([]byte, error) {
	r, err := blobs.Open(key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func envInt(t *testing.T, key string, def int) int {
	s := os.Getenv(key)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative number", key, s)
	}
	return n
}

// waitUntil polls cond until it holds, failing the test after d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
