package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"mailroom/internal/admin"
	"mailroom/internal/config"
	"mailroom/internal/store"
	"mailroom/internal/testkit"
)

// browser is a console user's HTTP client on a real daemon: a cookie jar,
// redirects followed, as a browser does.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// logIn logs user in through the console's login form of s.
func logIn(t *testing.T, s *testkit.Server, user, pw string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: "http://" + s.Addr("http"), hc: &http.Client{Jar: jar}}
	_, body := b.get("/login")
	tok := csrfField.FindStringSubmatch(body)
	if tok == nil {
		t.Fatalf("login page:\n%s", body)
	}
	if resp, body := b.post("/login", url.Values{"csrf": {tok[1]}, "user": {user}, "password": {pw}, "next": {"/"}}); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Log out") {
		t.Fatalf("login: %d\n%s", resp.StatusCode, body)
	}
	return b
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.hc.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// consolePW is the password of every mailbox and console user of
// startConsole.
const consolePW = "correct-horse-battery"

// startConsole starts a daemon serving example.test with the mailboxes
// app@ and bob@ and the console user root (all with consolePW); more
// runs after that setup, with opts.
func startConsole(t *testing.T, more func(ctx context.Context, a *admin.Service), opts ...testkit.Option) *testkit.Server {
	t.Helper()
	return testkit.Start(t, func(a *admin.Service) {
		ctx := context.Background()
		_, err := a.AddDomain(ctx, "example.test")
		testkit.MustAdd(t, err)
		for _, m := range []admin.NewMailbox{{Address: "app@example.test", DisplayName: "The App", Password: consolePW}, {Address: "bob@example.test", DisplayName: "Bob B", Password: consolePW}} {
			_, _, err = a.AddMailbox(ctx, m)
			testkit.MustAdd(t, err)
		}
		_, err = a.AddConsoleUser(ctx, "root", consolePW)
		testkit.MustAdd(t, err)
		if more != nil {
			more(ctx, a)
		}
	}, opts...)
}

// rowOf is the table row of page that contains text.
func rowOf(t *testing.T, page, text string) string {
	t.Helper()
	for _, row := range strings.Split(page, "<tr") {
		if strings.Contains(row, text) {
			return row
		}
	}
	t.Fatalf("no row with %q in\n%s", text, page)
	return ""
}

// TestConsole_QueueDeferredAsMetrics: two messages whose recipient the
// remote host defers, each attempted three times, are shown on the queue
// page as deferred with their next attempt time, subject and sender, as
// /metrics counts them (2 deferred, 0 queued); the dashboard counts 2
// deferred messages, not 6 attempts; the Drop confirmation says no
// failure notice is sent, and none is.
func TestConsole_QueueDeferredAsMetrics(t *testing.T) {
	const pw = consolePW
	r := testkit.NewRemote(t)
	r.MX(t, "remote.test", testkit.MXOptions{Rcpt: func(string) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}})
	s := startConsole(t, nil, testkit.WithRemote(r), func(c *config.Config) {
		c.Delivery.RetrySchedule = []config.Duration{config.Duration(time.Millisecond), config.Duration(time.Millisecond), config.Duration(time.Hour)}
	})
	var ids []string
	for _, subj := range []string{"Invoice 42", "Invoice 43"} {
		ids = append(ids, s.Send("app@example.test", pw, "app@example.test", []string{"later@remote.test"},
			"From: The App <app@example.test>\r\nTo: later@remote.test\r\nSubject: "+subj+"\r\n\r\nx\r\n"))
	}
	testkit.Eventually(t, "both messages attempted three times", func() bool {
		es, err := s.Admin.Queue(context.Background(), "queued", "", 10)
		return err == nil && len(es) == 2 && es[0].Attempts == 3 && es[1].Attempts == 3
	})
	s.Daemon.FlushTrace()

	m := scrape(t, s)
	if m[`mailroom_queue_depth_recipients{state="deferred"}`] != 2 || m[`mailroom_queue_depth_recipients{state="queued"}`] != 0 {
		t.Fatalf("/metrics: deferred %v queued %v; want 2 and 0", m[`mailroom_queue_depth_recipients{state="deferred"}`], m[`mailroom_queue_depth_recipients{state="queued"}`])
	}
	b := logIn(t, s, "root", pw)
	_, page := b.get("/queue")
	for _, id := range ids {
		row := rowOf(t, page, id)
		for _, want := range []string{`<td class="state">deferred</td>`, "<td>3</td>", `<td class="next"><time datetime="`, "The App &lt;app@example.test&gt;", "later@remote.test", "451 4.3.0"} {
			if !strings.Contains(row, want) {
				t.Errorf("queue row of %s: no %q in\n%s", id, want, row)
			}
		}
	}
	for _, want := range []string{"Invoice 42", "Invoice 43", "No failure notice is sent to the sender."} {
		if !strings.Contains(page, want) {
			t.Errorf("queue page: no %q", want)
		}
	}
	if strings.Contains(page, "gets a failure notice") {
		t.Errorf("queue page promises a failure notice that drop does not send")
	}

	// The API's rows say the same; ?state=queued filters on the stored
	// state, so it lists them.
	_, apiTok, err := s.Admin.AddToken(context.Background(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"", "?state=queued"} {
		req, _ := http.NewRequest("GET", "http://"+s.Addr("http")+"/api/v1/queue"+q, nil)
		req.Header.Set("Authorization", "Bearer "+apiTok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var rows []struct {
			QueueID       string     `json:"queue_id"`
			State         string     `json:"state"`
			Attempts      int        `json:"attempts"`
			NextAttemptAt *time.Time `json:"next_attempt_at"`
		}
		err = json.NewDecoder(resp.Body).Decode(&rows)
		resp.Body.Close()
		if err != nil || len(rows) != 2 {
			t.Fatalf("GET /api/v1/queue%s: %d %v %+v", q, resp.StatusCode, err, rows)
		}
		for _, r := range rows {
			if r.State != store.StateDeferred || r.Attempts != 3 || r.NextAttemptAt == nil || !r.NextAttemptAt.After(time.Now()) {
				t.Errorf("GET /api/v1/queue%s: row %+v; want deferred with its next attempt time", q, r)
			}
		}
	}

	d, err := s.Admin.Dashboard(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.Deferred != 2 {
		t.Errorf("dashboard: deferred %d; want 2 messages (attempts were 6)", d.Deferred)
	}
	if _, page = b.get("/"); !strings.Contains(page, "deferred 2") {
		t.Errorf("dashboard page: no \"deferred 2\"")
	}

	tok := csrfField.FindStringSubmatch(page)[1]
	_, page = b.post("/queue/drop", url.Values{"csrf": {tok}, "queue_id": {ids[0]}, "recipient": {"later@remote.test"}})
	if !strings.Contains(page, "Dropped 1 recipient(s); no failure notice was sent to the sender.") {
		t.Errorf("after drop: no confirmation in\n%s", page)
	}
	if st := s.QueueStates(ids[0]); st["later@remote.test"] != store.StateFailed {
		t.Errorf("dropped row: %v", st)
	}
	if inbox := s.Folder("app@example.test", store.FolderInbox); len(inbox) != 0 {
		t.Errorf("the sender's Inbox after a drop: %v; the page said no notice is sent", inbox)
	}
	if t.Failed() {
		t.Logf("queue page:\n%s", page)
	}
}

// TestConsole_FolderList: a folder lists From, To, Subject, date, size
// and age, newest first, 50 to a page with a link to the older ones; a
// search keeps the messages whose From, To or Subject contain the text
// and is bounded; the message viewer links a download of the message as
// stored (.eml, an attachment).
func TestConsole_FolderList(t *testing.T) {
	const pw = consolePW
	s := startConsole(t, func(ctx context.Context, a *admin.Service) {
		many := 1000
		_, err := a.SetMailbox(ctx, "app@example.test", admin.MailboxChange{Limits: admin.LimitChange{MessagesPerMinute: &many, RecipientsPerDay: &many}})
		testkit.MustAdd(t, err)
	})
	c, err := testkit.DialSubmission(s.Addr("submission"), s.TLSConfig(), "app@example.test", pw)
	if err != nil {
		t.Fatal(err)
	}
	send := func(subject string) string {
		t.Helper()
		res := c.Send("app@example.test", []string{"bob@example.test"}, "From: app@example.test\r\nTo: Bob B <bob@example.test>\r\nSubject: "+subject+"\r\n\r\nhello\r\n")
		if !res.Accepted() {
			t.Fatalf("send %q: %+v", subject, res)
		}
		return testkit.QueueID(res.Reply)
	}
	invoice := send("=?utf-8?q?Invoice_=E2=82=AC42?=")
	for i := range 50 {
		send(fmt.Sprintf("Note %d", i))
	}
	last := send("Lunch")
	c.Close()

	b := logIn(t, s, "root", pw)
	_, page := b.get("/messages/app@example.test")
	row := rowOf(t, page, last)
	for _, want := range []string{"<td>app@example.test</td>", "<td>Bob B &lt;bob@example.test&gt;</td>", ">Lunch</a>", `<time datetime="`, " bytes</td>", " s</td>"} {
		if !strings.Contains(row, want) {
			t.Errorf("folder row: no %q in\n%s", want, row)
		}
	}
	if !strings.Contains(page, "52 messages") || strings.Contains(page, invoice) || !strings.Contains(page, `rel="next" href="?folder=Sent%20Items&q=&offset=50"`) {
		t.Errorf("first page: want 52 messages, the oldest on the next page, a link to it")
	}
	if _, page = b.get("/messages/app@example.test?folder=Sent+Items&offset=50"); !strings.Contains(page, "Invoice €42") || !strings.Contains(page, `rel="prev"`) {
		t.Errorf("second page: no Invoice €42 or link back")
	}

	_, page = b.get("/messages/app@example.test?q=invoice")
	if !strings.Contains(page, "1 match") || !strings.Contains(page, "Invoice €42") || strings.Contains(page, "Lunch") {
		t.Errorf("search invoice: want the invoice only")
	}
	if _, page = b.get("/messages/bob@example.test?folder=inbox&q=" + url.QueryEscape("bob b")); !strings.Contains(page, "52 match") {
		t.Errorf("search by To in bob's Inbox: want 52 matches")
	}
	// The link to the next page keeps the search as typed (a space is
	// not read back as "+").
	if next := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(page); next == nil {
		t.Errorf("search by To in bob's Inbox: no link to the next page")
	} else if _, page = b.get("/messages/bob@example.test" + html.UnescapeString(next[1])); !strings.Contains(page, "52 match") || !strings.Contains(page, `rel="prev"`) {
		t.Errorf("next page of the search %s: want the same 52 matches and a link back", next[1])
	}
	if resp, _ := b.get("/messages/app@example.test?q=" + strings.Repeat("x", admin.MaxFolderSearch+1)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a search one octet over the bound: %d, want 400", resp.StatusCode)
	}

	_, page = b.get("/messages/app@example.test/" + invoice + "?folder=Sent+Items")
	link := `/messages/app@example.test/` + invoice + `/raw?folder=Sent%20Items`
	if !strings.Contains(page, `href="`+link+`" download`) {
		t.Fatalf("message page: no download link %s in\n%s", link, page)
	}
	resp, raw := b.get(link)
	rc, _, err := s.Admin.OpenRaw(context.Background(), "app@example.test", store.FolderSent, invoice)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := io.ReadAll(rc)
	rc.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") != `attachment; filename="`+invoice+`.eml"` ||
		resp.Header.Get("Content-Type") != "message/rfc822" || raw != string(stored) {
		t.Fatalf("download: %d %q %q, %d octets of %d stored", resp.StatusCode, resp.Header.Get("Content-Disposition"), resp.Header.Get("Content-Type"), len(raw), len(stored))
	}
}

// TestConsole_MailboxActivity: a mailbox's activity page charts its
// accepted messages and refused attempts of the last 24 hours; another
// mailbox's shows none of them.
func TestConsole_MailboxActivity(t *testing.T) {
	const pw = consolePW
	s := startConsole(t, nil)
	for range 2 {
		s.Send("app@example.test", pw, "app@example.test", []string{"bob@example.test"}, "Subject: x\r\n\r\nx\r\n")
	}
	c := testkit.Ready(t, s, "app@example.test", pw)
	c.MustCmd("MAIL FROM:<bob@example.test>", 550, "5.7.60")
	c.Close()
	s.Daemon.FlushTrace()

	b := logIn(t, s, "root", pw)
	_, page := b.get("/mailboxes/app@example.test/activity")
	hour := time.Now().UTC().Truncate(time.Hour)
	for _, want := range []string{"accepted 2", "refused 1", `data-start="` + hour.Format(time.RFC3339) + `"`, ">" + hour.Format("15:04") + "</text>", "2 accepted, 1 refused"} {
		if !strings.Contains(page, want) {
			t.Errorf("activity of app@: no %q", want)
		}
	}
	if _, page = b.get("/mailboxes/bob@example.test/activity"); !strings.Contains(page, "accepted 0") || !strings.Contains(page, "refused 0") {
		t.Errorf("activity of bob@: want nothing counted")
	}
	if resp, _ := b.get("/mailboxes/nobody@example.test/activity"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("activity of an unknown mailbox: %d, want 404", resp.StatusCode)
	}
	if _, page = b.get("/mailboxes/app@example.test"); !strings.Contains(page, `href="/mailboxes/app@example.test/activity"`) {
		t.Errorf("mailbox page: no link to its activity")
	}
	if t.Failed() {
		t.Logf("page:\n%s", page)
	}
}
