package submission_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailroom/internal/store"
)

// Issue 18, item 5: clients nobody here wrote log in with tokens and submit.

// smtplibOAuth logs in with XOAUTH2 or OAUTHBEARER through smtplib's
// auth() and a custom auth object (as the Python docs suggest), sends one
// message, and prints each reply's code and enhanced code.
const smtplibOAuth = `
import smtplib, ssl, sys
from email.message import EmailMessage
port, cafile, mech, user, token = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]

def authobject(challenge=None):
    if challenge is not None:  # the RFC 7628 error challenge: answer and get the 535
        print("challenge", challenge.decode())
        return "" if mech == "XOAUTH2" else "\x01"
    if mech == "XOAUTH2":
        return "user=%s\x01auth=Bearer %s\x01\x01" % (user, token)
    return "n,a=%s,\x01host=localhost\x01port=%d\x01auth=Bearer %s\x01\x01" % (user, port, token)

def show(what, reply):
    code, text = reply
    print(what, code, text.decode().split()[0])

with smtplib.SMTP("localhost", port) as s:
    s.starttls(context=ssl.create_default_context(cafile=cafile))
    s.ehlo()
    try:
        show("auth", s.auth(mech, authobject))
    except smtplib.SMTPAuthenticationError as e:
        print("auth", e.smtp_code, e.smtp_error.decode().split()[0])
        sys.exit(0)
    m = EmailMessage()
    m["From"] = user
    m["To"] = "carol@example.test"
    m["Subject"] = "smtplib " + mech
    m.set_content("hello from python with a token")
    show("mail", s.mail(user))
    show("rcpt", s.rcpt("carol@example.test"))
    show("data", s.data(m.as_string()))  # a str: smtplib makes its line ends CRLF
`

func TestInterop_PythonOAuth(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: skipping the smtplib OAuth test")
	}
	s, p := startOAuth(t)
	cafile := filepath.Join(s.DataDir(), "tls", "cert.pem")
	_, port, _ := net.SplitHostPort(s.Addr("submission"))
	run := func(mech, token string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, py, "-c", smtplibOAuth, port, cafile, mech, "alice@example.test", token).CombinedOutput()
		if err != nil {
			t.Fatalf("python %s: %v\n%s", mech, err, out)
		}
		return string(out)
	}
	for i, mech := range []string{"XOAUTH2", "OAUTHBEARER"} {
		out := run(mech, p.Mint(person(p, "alice@example.test")))
		for _, want := range []string{"auth 235 2.0.0", "mail 250 2.0.0", "rcpt 250 2.0.0", "data 250 2.0.0"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", mech, want, out)
			}
		}
		if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != i+1 {
			t.Fatalf("%s: carol's inbox has %d messages, want %d", mech, n, i+1)
		}
		expired := person(p, "alice@example.test")
		expired["exp"] = time.Now().Add(-time.Hour).Unix()
		out = run(mech, p.Mint(expired))
		for _, want := range []string{`challenge {"status":"invalid_token","schemes":"bearer","scope":"SMTP.Send"}`, "auth 535 5.7.8"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s, expired token: output lacks %q:\n%s", mech, want, out)
			}
		}
	}
}

// TestInterop_NodemailerXOAuth2 submits with nodemailer's OAuth2 login
// (npm ci --prefix internal/submission/nodetest; CI installs it).
func TestInterop_NodemailerXOAuth2(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: skipping the nodemailer OAuth test")
	}
	if _, err := os.Stat("nodetest/node_modules/nodemailer"); err != nil {
		t.Skip("nodemailer is not installed: run npm ci --prefix internal/submission/nodetest")
	}
	s, p := startOAuth(t)
	_, port, _ := net.SplitHostPort(s.Addr("submission"))
	type result struct {
		Error        string
		ResponseCode int
		Response     string
	}
	send := func(token, retry string) result {
		arg, _ := json.Marshal(map[string]any{"port": port, "ca": filepath.Join(s.DataDir(), "tls", "cert.pem"),
			"user": "alice@example.test", "token": token, "retry": retry})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "send.mjs", string(arg))
		cmd.Dir = "nodetest"
		out, err := cmd.CombinedOutput()
		var r result
		if err != nil || json.Unmarshal(out, &r) != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		return r
	}
	good := p.Mint(person(p, "alice@example.test"))
	if r := send(good, good); r.Error != "" || !strings.HasPrefix(r.Response, "250 2.0.0 ") {
		t.Fatalf("nodemailer with a valid token: %+v", r)
	}
	if n := len(readFolder(t, s, "carol@example.test", store.FolderInbox)); n != 1 {
		t.Fatalf("carol's inbox has %d messages, want 1", n)
	}
	// A token for the wrong audience, and its renewal just as bad: after
	// each error challenge, 535 5.7.8.
	wrong := person(p, "alice@example.test")
	wrong["aud"] = "api://other"
	r := send(p.Mint(wrong), p.Mint(wrong))
	if r.Error != "EAUTH" || r.ResponseCode != 535 || !strings.HasPrefix(r.Response, "535 5.7.8 ") {
		t.Fatalf("nodemailer with a wrong-audience token: %+v", r)
	}
	// A renewed token after a refused one logs in, as nodemailer retries
	// once with a new token.
	if r := send(p.Mint(wrong), good); r.Error != "" || !strings.HasPrefix(r.Response, "250 2.0.0 ") {
		t.Fatalf("nodemailer renewing its token: %+v", r)
	}
}
