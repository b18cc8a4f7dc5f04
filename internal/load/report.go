package load

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

// Phase is the step of a session or a message in which a failure happened.
type Phase string

// The phases, in the order a session meets them.
const (
	PhaseConnect  Phase = "CONNECT"  // TCP connect
	PhaseTLS      Phase = "TLS"      // implicit TLS handshake, or STARTTLS and its handshake
	PhaseGreeting Phase = "GREETING" // the server's first reply
	PhaseEHLO     Phase = "EHLO"
	PhaseAuth     Phase = "AUTH"
	PhaseMail     Phase = "MAIL"
	PhaseRcpt     Phase = "RCPT"
	PhaseData     Phase = "DATA"    // the DATA command (354 expected)
	PhaseMessage  Phase = "MESSAGE" // sending the message and its final reply
)

// phaseError is an error and the phase it happened in.
type phaseError struct {
	phase Phase
	err   error
}

func (e *phaseError) Error() string { return string(e.phase) + ": " + e.err.Error() }
func (e *phaseError) Unwrap() error { return e.err }

// FailureKey groups failures: the phase, and the server's reply (code and
// enhanced code) or, when there was none, the cause (timeout, connection
// refused, ...).
type FailureKey struct {
	Phase    Phase
	Code     int    // the SMTP reply code; 0 when there was no reply
	Enhanced string // "4.3.2"; "" when the reply had none
	Cause    string // why there was no reply; "" when there was one
}

func (k FailureKey) String() string {
	switch {
	case k.Code == 0:
		return fmt.Sprintf("%s %s", k.Phase, k.Cause)
	case k.Enhanced == "":
		return fmt.Sprintf("%s %d", k.Phase, k.Code)
	}
	return fmt.Sprintf("%s %d %s", k.Phase, k.Code, k.Enhanced)
}

// Failure is one group of failed messages.
type Failure struct {
	FailureKey
	Count int
	// Example is the reply text (or error) of the first one.
	Example string
}

// classify turns an error of a session or a message into its group and an
// example text.
func classify(err error) (FailureKey, string) {
	k := FailureKey{Phase: PhaseMessage}
	var pe *phaseError
	if errors.As(err, &pe) {
		k.Phase = pe.phase
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		k.Code = se.Code
		if se.EnhancedCode != smtp.NoEnhancedCode && se.EnhancedCode != (smtp.EnhancedCode{}) {
			k.Enhanced = fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		}
		text, _, _ := strings.Cut(se.Message, "\n")
		return k, text
	}
	k.Cause = cause(err)
	text := err.Error()
	if pe != nil {
		text = pe.err.Error()
	}
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return k, text
}

// cause names an error without a reply in a few words.
func cause(err error) string {
	var ne net.Error
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ae tls.AlertError
	var rh tls.RecordHeaderError
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "out of local ports"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return "connection closed"
	case errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &hn):
		return "certificate not trusted"
	case errors.As(err, &ae), errors.As(err, &rh):
		return "tls handshake"
	}
	return "error"
}

// Percentiles summarise durations (nearest rank).
type Percentiles struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

func percentiles(d []time.Duration) Percentiles {
	p := Percentiles{N: len(d)}
	if len(d) == 0 {
		return p
	}
	slices.Sort(d)
	at := func(q float64) time.Duration {
		i := int(float64(len(d))*q+0.999999) - 1
		return d[max(0, min(i, len(d)-1))]
	}
	p.P50, p.P90, p.P99, p.Max = at(.50), at(.90), at(.99), d[len(d)-1]
	return p
}

// Report is the outcome of a run.
type Report struct {
	// OK messages got their 250 after DATA; Failed did not; Interrupted
	// were in flight when the run was cancelled.
	OK, Failed, Interrupted int
	Elapsed                 time.Duration
	// Latency is per accepted message, from MAIL FROM to the 250 after
	// the message.
	Latency Percentiles
	// Setup is per session: connect, greeting, EHLO, TLS and AUTH.
	Setup Percentiles
	// Failures, most frequent first.
	Failures []Failure
	// ClientCPU is the CPU time this process used in the run, so a user
	// can tell when the load generator itself is the bottleneck.
	ClientCPU time.Duration
}

// Rate is accepted messages per second.
func (r *Report) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

func (r *Runner) report() *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &Report{
		OK: int(r.ok.Load()), Failed: int(r.failed.Load()), Interrupted: r.interr,
		Elapsed: r.elapsed, Latency: percentiles(r.lat), Setup: percentiles(r.setup),
		ClientCPU: cpuTime() - r.cpu0,
	}
	for _, f := range r.fails {
		rep.Failures = append(rep.Failures, *f)
	}
	slices.SortFunc(rep.Failures, func(a, b Failure) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.String(), b.String()))
	})
	return rep
}

// WriteText prints the report for a person.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "messages:        %d ok, %d failed", r.OK, r.Failed)
	if r.Interrupted > 0 {
		fmt.Fprintf(&b, ", %d interrupted", r.Interrupted)
	}
	fmt.Fprintf(&b, " in %s\n", r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&b, "throughput:      %.1f msgs/s\n", r.Rate())
	fmt.Fprintf(&b, "latency:         %s  (MAIL FROM to the 250 after DATA, %d messages)\n", r.Latency.format(), r.Latency.N)
	fmt.Fprintf(&b, "session setup:   %s  (connect, TLS, AUTH; %d sessions)\n", r.Setup.format(), r.Setup.N)
	if r.Elapsed > 0 {
		fmt.Fprintf(&b, "client cpu:      %s (%.0f%% of one core)\n", r.ClientCPU.Round(time.Millisecond), 100*r.ClientCPU.Seconds()/r.Elapsed.Seconds())
	}
	if len(r.Failures) > 0 {
		b.WriteString("failures (phase, reply code, enhanced code: count):\n")
		for _, f := range r.Failures {
			fmt.Fprintf(&b, "  %s: %d\n      e.g. %s\n", f.FailureKey, f.Count, f.Example)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (p Percentiles) format() string {
	if p.N == 0 {
		return "-"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", ms(p.P50), ms(p.P90), ms(p.P99), ms(p.Max))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
