package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"mailroom/internal/load"
)

const loadUsage = `mailroom load --user ADDR --password-stdin [--to ADDR,...] [flags]
Submits --messages messages over --conns sessions at once and prints throughput,
latency percentiles and every refusal by phase, reply code and enhanced code.
Works against any submission server. The mailbox's throttles apply to it as to
any client: lift them for a benchmark (mailroom mailbox set ADDR --messages-per-minute ...).
Exit status: 0 when every message was accepted, 1 when any failed, 2 on a usage error.`

func runLoad(ctx context.Context, args []string, s ioSet) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:587", "server `host:port`")
	tlsMode := fs.String("tls", "starttls", "starttls, implicit (port 465) or none")
	insecure := fs.Bool("insecure", false, "do not verify the server's certificate (self-signed)")
	caFile := fs.String("ca", "", "trust the certificates in this PEM `file` (a self-signed server's tls/cert.pem)")
	user := fs.String("user", "", "AUTH username (none: no AUTH)")
	password := fs.String("password", "", "AUTH password (visible to other users in the process list; prefer --password-stdin)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	auth := fs.String("auth", "plain", "AUTH mechanism: plain or login")
	from := fs.String("from", "", "envelope sender and From: (default: --user)")
	to := fs.String("to", "", "comma-separated recipients, all on every message (default: --from)")
	sizeFlag := fs.String("size", "4k", "body `bytes` of each message: 4096, 4k, 100k, 1m")
	conns := fs.Int("conns", 1, "sessions at once")
	messages := fs.Int("messages", 1000, "messages in all; 0 runs until --duration")
	perConn := fs.Int("per-conn", 0, "messages per session before QUIT and a new session; 0 reuses it for the whole run, 1 connects, TLS and AUTH for each message")
	var duration, timeout time.Duration
	durationVar(fs, &duration, "duration", 0, "stop starting messages after this long (0: no cap)")
	durationVar(fs, &timeout, "timeout", 30*time.Second, "limit of each network operation")
	pos, err := parse(fs, args)
	if err != nil {
		return showHelp(err, s.out, loadUsage)
	}
	if len(pos) > 0 {
		return usagef("load takes no arguments, got %q", pos)
	}
	size, err := parseSize("--size", *sizeFlag)
	if err != nil || size <= 0 {
		return usagef("--size=%s: want a byte count such as 4096, 4k, 100k or 1m", *sizeFlag)
	}
	o := load.Options{
		Addr: *addr, TLS: load.TLSMode(*tlsMode), Username: *user, Password: *password, Auth: *auth,
		From: *from, To: splitList(*to), Size: int(size), Conns: *conns, Messages: *messages,
		PerConn: *perConn, Duration: duration, Timeout: timeout,
	}
	if o.From == "" {
		o.From = o.Username
	}
	if len(o.To) == 0 && o.From != "" {
		o.To = []string{o.From}
	}
	if *pwStdin {
		if o.Password, err = readPassword(s); err != nil {
			return err
		}
	}
	if o.TLSConfig, err = loadTLSConfig(*insecure, *caFile); err != nil {
		return err
	}
	r, err := load.New(o)
	if err != nil {
		return usagef("load: %v", err)
	}
	o = r.Options()
	fmt.Fprintf(s.out, "mailroom load: %s (%s), %d connections, %s of %d bytes to %s, %s\n",
		o.Addr, o.TLS, o.Conns, count(o.Messages, o.Duration), o.Size, fmt.Sprint(len(o.To), plural(len(o.To), " recipient", " recipients")), perConnText(o.PerConn))

	var rep *load.Report
	if f, ok := s.err.(*os.File); ok && isTerminal(f) {
		stop := showProgress(f, r, o)
		rep = r.Run(ctx)
		stop()
	} else {
		rep = r.Run(ctx)
	}
	if err := rep.WriteText(s.out); err != nil {
		return err
	}
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted")
	case rep.Failed > 0:
		return fmt.Errorf("%d of %d messages failed", rep.Failed, rep.OK+rep.Failed)
	}
	return nil
}

func loadTLSConfig(insecure bool, caFile string) (*tls.Config, error) {
	c := &tls.Config{InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate in it", caFile)
		}
	}
	return c, nil
}

func count(messages int, d time.Duration) string {
	switch {
	case messages == 0:
		return "messages for " + d.String()
	case d > 0:
		return fmt.Sprintf("%d messages (at most %s)", messages, d)
	}
	return fmt.Sprintf("%d messages", messages)
}

func perConnText(n int) string {
	switch n {
	case 0:
		return "sessions reused"
	case 1:
		return "a new session for each message"
	}
	return fmt.Sprintf("a new session every %d messages", n)
}

// isTerminal says whether f is a terminal (a character device), without
// a dependency for it.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// showProgress redraws a progress line on w four times a second until the
// returned function is called, which erases it.
func showProgress(w io.Writer, r *load.Runner, o load.Options) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		// The rate is over the last second: four snapshots back.
		var hist []load.Progress
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
			}
			p := r.Progress()
			hist = append(hist, p)
			if len(hist) > 5 {
				hist = hist[1:]
			}
			fmt.Fprint(w, "\r\033[K"+progressLine(p, hist[0], o))
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// progressLine is one line of progress: done/total and a bar (or elapsed
// of duration), the recent rate, failures.
func progressLine(p, back load.Progress, o load.Options) string {
	var b strings.Builder
	if o.Messages > 0 {
		const width = 30
		filled := min(width, int(p.Done*width/int64(o.Messages)))
		fmt.Fprintf(&b, "%d/%d [%s%s] %3d%%", p.Done, o.Messages, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), p.Done*100/int64(o.Messages))
	} else {
		fmt.Fprintf(&b, "%d done", p.Done)
	}
	rate := 0.0
	if dt := (p.Elapsed - back.Elapsed).Seconds(); dt > 0 {
		rate = float64(p.OK-back.OK) / dt
	}
	fmt.Fprintf(&b, "  %.0f msgs/s  %d failed  %s", rate, p.Failed, p.Elapsed.Round(time.Second))
	if o.Duration > 0 {
		fmt.Fprintf(&b, " of %s", o.Duration)
	}
	return b.String()
}
