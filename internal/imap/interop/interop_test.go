package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	goimap "github.com/emersion/go-imap/v2"

	"mailroom/internal/admin"
	"mailroom/internal/testkit"
)

const pw = "correct-horse-battery"

// fixture: example.test with alice and bob (users) and info (shared, its
// sent copies kept), alice may send as info and open it.
func fixture(a *admin.Service) {
	ctx := context.Background()
	if _, err := a.AddDomain(ctx, "example.test"); err != nil {
		panic(err)
	}
	for _, m := range []admin.NewMailbox{
		{Address: "alice@example.test", DisplayName: "Alice", Password: pw},
		{Address: "bob@example.test", Password: pw},
		{Address: "carol@example.test", Password: pw},
		{Address: "info@example.test", Shared: true},
	} {
		if _, _, err := a.AddMailbox(ctx, m); err != nil {
			panic(err)
		}
	}
	on := true
	if _, err := a.SetMailbox(ctx, "info@example.test", admin.MailboxChange{CopySentAs: &on}); err != nil {
		panic(err)
	}
	off := false
	if _, err := a.SetMailbox(ctx, "carol@example.test", admin.MailboxChange{IMAP: &off}); err != nil {
		panic(err)
	}
	for _, g := range []admin.GrantSpec{
		{Kind: "send-as", On: "info@example.test", To: "alice@example.test"},
		{Kind: "full-access", On: "info@example.test", To: "alice@example.test"},
	} {
		if _, err := a.AddGrant(ctx, g); err != nil {
			panic(err)
		}
	}
}

// message is a message from `from` to bob with Message-ID id.
func message(from, id, subject string) string {
	return "From: " + from + "\r\nTo: bob@example.test\r\nSubject: " + subject +
		"\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <" + id + ">\r\n\r\nHello Bob.\r\n"
}

// submit sends msg from alice (as from) to bob over SMTP submission.
func submit(t *testing.T, s *testkit.Server, from, msg string) {
	t.Helper()
	c, err := testkit.DialSubmission(s.Addr("submission"), s.TLSConfig(), "alice@example.test", pw)
	if err != nil {
		t.Fatalf("dial submission: %v", err)
	}
	defer c.Close()
	if r := c.Send(from, []string{"bob@example.test"}, msg); !r.Accepted() {
		t.Fatalf("submission not accepted: %+v", r)
	}
}

// clientEnv is the environment the client scripts read.
func clientEnv(s *testkit.Server, addr, user, pass string, secure bool) []string {
	host, port, _ := strings.Cut(addr, ":")
	sec := "0"
	if secure {
		sec = "1"
	}
	return append(os.Environ(), "IMAP_HOST="+host, "IMAP_PORT="+port, "IMAP_USER="+user, "IMAP_PASS="+pass,
		"IMAP_CA="+filepath.Join(s.DataDir(), "tls", "cert.pem"), "IMAP_SECURE="+sec, "IMAP_SERVERNAME=localhost")
}

// run runs a client script and decodes the JSON it prints into out.
func run(t *testing.T, cmd *exec.Cmd, out any) {
	t.Helper()
	b, err := cmd.Output()
	if len(b) == 0 {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s: %v\n%s", cmd, err, stderr)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s printed %q: %v", cmd, b, err)
	}
}

func python(t *testing.T, env []string, mode string, out any) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH (Debian: apt-get install python3)")
	}
	cmd := exec.CommandContext(t.Context(), "python3", "imaplib_client.py", mode)
	cmd.Env = env
	run(t, cmd, out)
}

// TestInterop_Imaplib: Python's imaplib over STARTTLS sees LOGINDISABLED
// and cannot log in before TLS; after it, LIST names Sent Items \Sent,
// SEARCH finds by subject and date, FETCH reads the message alice
// submitted over SMTP in bob's INBOX and in alice's Sent Items; a wrong
// password and a mailbox with IMAP off are refused.
func TestInterop_Imaplib(t *testing.T) {
	s := testkit.Start(t, fixture)
	submit(t, s, "alice@example.test", message("Alice <alice@example.test>", "lunch@example.test", "Lunch on Friday"))

	var bob struct {
		CapsBefore  []string `json:"capabilities_before_tls"`
		LoginBefore string   `json:"login_before_tls"`
		Caps        []string `json:"capabilities"`
		List        []string `json:"list"`
		Inbox       folder   `json:"inbox"`
		SearchSubj  []int    `json:"search_subject"`
		SearchSince []int    `json:"search_since"`
		Sent        folder   `json:"sent"`
		Exception   string   `json:"exception"`
	}
	env := append(clientEnv(s, s.IMAPAddr(), "bob@example.test", pw, false), "SEARCH_SUBJECT=friday", "SEARCH_SINCE=29-Nov-2026")
	python(t, env, "read", &bob)
	if bob.Exception != "" {
		t.Fatalf("imaplib: %s", bob.Exception)
	}
	if !slices.Contains(bob.CapsBefore, "LOGINDISABLED") || !slices.Contains(bob.CapsBefore, "STARTTLS") || slices.Contains(bob.CapsBefore, "AUTH=PLAIN") {
		t.Errorf("capabilities before TLS: %v", bob.CapsBefore)
	}
	if bob.LoginBefore == "OK" {
		t.Error("LOGIN before TLS succeeded")
	}
	if !slices.Contains(bob.Caps, "AUTH=PLAIN") || slices.Contains(bob.Caps, "LOGINDISABLED") {
		t.Errorf("capabilities after TLS: %v", bob.Caps)
	}
	var sent bool
	for _, l := range bob.List {
		if strings.Contains(l, `\Sent`) && strings.Contains(l, `"Sent Items"`) {
			sent = true
		}
	}
	if !sent {
		t.Errorf("LIST lacks Sent Items with \\Sent: %q", bob.List)
	}
	if len(bob.Inbox.Messages) != 1 || bob.Inbox.Messages[0].Subject != "Lunch on Friday" {
		t.Fatalf("bob's INBOX: %+v", bob.Inbox)
	}
	uid := bob.Inbox.Messages[0].UID
	if !slices.Equal(bob.SearchSubj, []int{uid}) || !slices.Equal(bob.SearchSince, []int{uid}) {
		t.Errorf("SEARCH SUBJECT friday = %v, SINCE 29-Nov-2026 = %v; want [%d]", bob.SearchSubj, bob.SearchSince, uid)
	}
	if len(bob.Sent.Messages) != 0 {
		t.Errorf("bob's Sent Items: %+v", bob.Sent)
	}

	var alice struct {
		Sent folder `json:"sent"`
	}
	python(t, clientEnv(s, s.IMAPTLSAddr(), "alice@example.test", pw, true), "read", &alice)
	if len(alice.Sent.Messages) != 1 || alice.Sent.Messages[0].Subject != "Lunch on Friday" {
		t.Errorf("alice's Sent Items: %+v", alice.Sent)
	}

	for _, tc := range []struct{ user, pass, want string }{
		{"bob@example.test", "wrong", "AUTHENTICATIONFAILED"},
		{"nobody@example.test", pw, "AUTHENTICATIONFAILED"},
		{"carol@example.test", pw, "IMAP"},
	} {
		var r struct {
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		python(t, clientEnv(s, s.IMAPTLSAddr(), tc.user, tc.pass, true), "login", &r)
		if r.OK || !strings.Contains(r.Error, tc.want) {
			t.Errorf("login %s/%s: ok=%v %q, want a refusal naming %q", tc.user, tc.pass, r.OK, r.Error, tc.want)
		}
	}
}

// folder is what the scripts print of one folder.
type folder struct {
	UIDValidity string `json:"uidValidity"`
	Messages    []struct {
		UID       int      `json:"uid"`
		Subject   string   `json:"subject"`
		MessageID string   `json:"messageId"`
		Flags     []string `json:"flags"`
		Size      int      `json:"size"`
	} `json:"messages"`
	Error string `json:"error"`
}

// node returns the imapflow client command in mode, or skips the test
// when imapflow is not installed (.ci/run installs it, so CI never skips).
func node(t *testing.T, env []string, mode string) *exec.Cmd {
	t.Helper()
	if _, err := os.Stat("nodetest/node_modules/imapflow"); err != nil {
		t.Skip("imapflow is not installed: run npm ci --prefix internal/imap/interop/nodetest")
	}
	cmd := exec.CommandContext(t.Context(), "node", "client.mjs", mode)
	cmd.Dir = "nodetest"
	cmd.Env = env
	return cmd
}

// TestInterop_Imapflow: imapflow (the IMAP client of nodemailer's authors)
// lists folders with special-use, reads bob's INBOX and alice's Sent
// Items, sets a flag that persists across a restart, sees a new delivery
// while idling, has its APPEND of an already kept sent message stored
// once, and finds the shared mailbox alice has full access to under
// Shared/.
func TestInterop_Imapflow(t *testing.T) {
	s := testkit.Start(t, fixture)
	submit(t, s, "alice@example.test", message("Alice <alice@example.test>", "m1@example.test", "First"))
	submit(t, s, "info@example.test", message("Info <info@example.test>", "m2@example.test", "From info"))

	var bob struct {
		List []struct {
			Path       string `json:"path"`
			SpecialUse string `json:"specialUse"`
		} `json:"list"`
		Inbox folder `json:"inbox"`
		Error string `json:"error"`
	}
	run(t, node(t, clientEnv(s, s.IMAPTLSAddr(), "bob@example.test", pw, true), "read"), &bob)
	if bob.Error != "" {
		t.Fatalf("imapflow: %s", bob.Error)
	}
	uses := map[string]string{}
	for _, l := range bob.List {
		uses[l.Path] = l.SpecialUse
	}
	if uses["INBOX"] != `\Inbox` || uses["Sent Items"] != `\Sent` {
		t.Errorf("imapflow's list: %+v", bob.List)
	}
	if len(bob.Inbox.Messages) != 2 || bob.Inbox.Messages[0].Subject != "First" || bob.Inbox.Messages[0].MessageID != "<m1@example.test>" {
		t.Fatalf("bob's INBOX: %+v", bob.Inbox)
	}

	// The \Flagged imapflow set is there after a restart, under the same
	// UIDVALIDITY.
	s.Restart()
	c := s.LoginIMAP("bob@example.test", pw, nil)
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	if got := sel.UIDValidity; bob.Inbox.UIDValidity != strconv.FormatUint(uint64(got), 10) {
		t.Errorf("UIDVALIDITY %d after the restart, imapflow saw %s", got, bob.Inbox.UIDValidity)
	}
	msgs, err := c.Fetch(goimap.UIDSetNum(goimap.UID(bob.Inbox.Messages[0].UID)), &goimap.FetchOptions{UID: true, Flags: true}).Collect()
	if err != nil || len(msgs) != 1 || !slices.Contains(msgs[0].Flags, goimap.FlagFlagged) {
		t.Fatalf("flags after restart: %+v, %v", msgs, err)
	}
	c.Logout().Wait()

	// IDLE: a delivery shows while imapflow idles.
	idle := node(t, clientEnv(s, s.IMAPTLSAddr(), "bob@example.test", pw, true), "idle")
	stdout, err := idle.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := idle.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.Contains(lines.Text(), `"idling":true`) {
		t.Fatalf("imapflow idle: %q", lines.Text())
	}
	submit(t, s, "alice@example.test", message("Alice <alice@example.test>", "m3@example.test", "While idling"))
	if !lines.Scan() {
		t.Fatalf("imapflow idle printed nothing more: %v", idle.Wait())
	}
	var seen struct {
		Exists int `json:"exists"`
	}
	if err := json.Unmarshal(lines.Bytes(), &seen); err != nil || seen.Exists != 3 {
		t.Errorf("imapflow idle saw %q, want exists 3", lines.Text())
	}
	_ = idle.Wait()

	// APPEND of the message alice submitted: stored once, \Seen.
	raw := filepath.Join(t.TempDir(), "sent.eml")
	if err := os.WriteFile(raw, []byte(message("Alice <alice@example.test>", "m1@example.test", "First")), 0o600); err != nil {
		t.Fatal(err)
	}
	var app struct {
		UID   int    `json:"uid"`
		Error string `json:"error"`
	}
	run(t, node(t, append(clientEnv(s, s.IMAPTLSAddr(), "alice@example.test", pw, true), "APPEND_FILE="+raw), "append"), &app)
	if app.Error != "" {
		t.Fatalf("imapflow append: %s", app.Error)
	}
	var alice struct {
		List []struct {
			Path string `json:"path"`
		} `json:"list"`
		Sent folder `json:"sent"`
	}
	run(t, node(t, clientEnv(s, s.IMAPTLSAddr(), "alice@example.test", pw, true), "read"), &alice)
	var first int
	for _, m := range alice.Sent.Messages {
		if m.MessageID == "<m1@example.test>" {
			first++
			if !slices.Contains(m.Flags, `\Seen`) {
				t.Errorf("the appended flags were not applied to the kept copy: %v", m.Flags)
			}
		}
	}
	if first != 1 {
		t.Errorf("Sent Items holds m1 %d times after the client's APPEND: %+v", first, alice.Sent)
	}
	var shared bool
	for _, l := range alice.List {
		if l.Path == "Shared/info@example.test/Sent Items" {
			shared = true
		}
	}
	if !shared {
		t.Errorf("alice's list lacks the shared mailbox's Sent Items: %+v", alice.List)
	}
}
