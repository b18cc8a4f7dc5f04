package main

import (
	"bufio"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"mailroom/internal/testkit"
)

// TestQuickstart_RelayFor: quickstart --relay-for sets up a relay domain
// and its route: the demo mailbox sends to a colleague with no mailbox
// here and to itself, and both reach the upstream.
func TestQuickstart_RelayFor(t *testing.T) {
	up := testkit.StartMX(t, "127.0.0.1:0", testkit.MXOptions{})
	cfg := writeConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"quickstart", "--config", cfg, "--relay-for", "relay.test", "--upstream", up.Addr}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	settings := map[string]string{}
	var printed strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.HasPrefix(k, "MAIL_") {
			settings[k] = v
		}
		if strings.HasPrefix(sc.Text(), "tls = ") {
			break
		}
	}
	go io.Copy(io.Discard, pr)
	for _, want := range []string{"Gateway: relay.test is a relay domain", "[[delivery.routes]]\ndomains = [\"relay.test\"]\nhost = \"" + up.Addr + "\"\ntls = \"none\""} {
		if !strings.Contains(printed.String(), want) {
			t.Fatalf("quickstart did not print %q:\n%s", want, printed.String())
		}
	}
	if settings["MAIL_USERNAME"] != "demo@relay.test" {
		t.Fatalf("demo mailbox %q", settings["MAIL_USERNAME"])
	}
	c := testkit.Dial(t, "127.0.0.1:"+settings["MAIL_PORT"])
	c.MustCmd("EHLO client.example.test", 250, "")
	c.MustCmd("STARTTLS", 220, "")
	c2 := testkit.Upgrade(t, c)
	c2.Expect(c2.AuthPlain(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"]), 235, "2.0.0")
	c2.MustCmd("MAIL FROM:<demo@relay.test>", 250, "2.0.0")
	c2.MustCmd("RCPT TO:<colleague@relay.test>", 250, "2.0.0")
	c2.MustCmd("RCPT TO:<demo@relay.test>", 250, "2.0.0")
	c2.Expect(c2.SendData("From: demo@relay.test\r\nSubject: gateway\r\n\r\nvia upstream\r\n"), 250, "2.0.0")
	testkit.Eventually(t, "both recipients at the upstream", func() bool {
		var got []string
		for _, m := range up.Accepted() {
			got = append(got, m.Rcpts...)
		}
		slices.Sort(got)
		return slices.Equal(got, []string{"colleague@relay.test", "demo@relay.test"})
	})
	stopQuickstart(t, cancel, done)
}

// stopQuickstart ends quickstart's context and waits for it to return.
func stopQuickstart(t *testing.T, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("quickstart: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("quickstart did not stop after its context ended")
	}
}
