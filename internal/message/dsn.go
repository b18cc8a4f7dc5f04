package message

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
)

// DSN actions (RFC 3464 §2.3.3) mailroom reports.
const (
	ActionFailed  = "failed"
	ActionDelayed = "delayed"
)

// DSNRecipient is what a DSN says about one recipient.
type DSNRecipient struct {
	Recipient string
	Action    string // ActionFailed or ActionDelayed
	// Status is the enhanced status code, "5.1.1".
	Status string
	// Diagnostic is the remote server's reply ("550 5.1.1 No such user"),
	// or mailroom's own explanation when there was none.
	Diagnostic string
	// RemoteMTA is the host that gave the reply; "" when none did.
	RemoteMTA string
	// Upstream reports that the failure was at the reporting service's
	// own upstream (its smarthost or a route), not at the recipient's
	// server: what to do then falls to this service's administrator.
	Upstream    bool
	LastAttempt time.Time
	// RetryUntil is when a delayed recipient is given up; delayed only.
	RetryUntil time.Time
}

// DSN is a delivery status notification (RFC 3464) to the sender of a
// message that failed or is delayed.
type DSN struct {
	Hostname  string    // the reporting MTA, our host name
	To        string    // the original envelope sender
	QueueID   string    // the original message's queue id
	MessageID string    // the DSN's own Message-ID, without brackets; "" makes one
	Arrival   time.Time // when the original was accepted
	Date      time.Time
	// Header is the original message's header, quoted in the report
	// (text/rfc822-headers) so the sender can tell which message it was.
	Header     textproto.Header
	Recipients []DSNRecipient
}

// WriteDSN writes d as a multipart/report message with a readable part,
// the message/delivery-status part and the original header. It returns the
// DSN's Message-ID. A DSN is sent with a null envelope sender and is never
// answered by another DSN (RFC 5321 §4.5.5); the caller sees to both.
func WriteDSN(w io.Writer, d DSN) (string, error) {
	if d.MessageID == "" {
		var rnd [8]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return "", fmt.Errorf("dsn message id: %w", err)
		}
		d.MessageID = "dsn." + d.QueueID + "." + hex.EncodeToString(rnd[:]) + "@" + d.Hostname
	}
	var rnd [12]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("dsn boundary: %w", err)
	}
	boundary := "mailroom-dsn-" + hex.EncodeToString(rnd[:])
	failed := false
	for _, r := range d.Recipients {
		failed = failed || r.Action == ActionFailed
	}
	subject := strings.TrimSpace(d.Header.Get("Subject"))
	prefix := "Delayed: "
	if failed {
		prefix = "Undeliverable: "
	}

	bw := bufio.NewWriter(w)
	var h textproto.Header
	// textproto writes fields in reverse order of Add; build top to bottom.
	fields := [][2]string{
		{"From", "Mail Delivery System <MAILER-DAEMON@" + d.Hostname + ">"},
		{"To", "<" + d.To + ">"},
		{"Subject", oneLine(prefix + subject)},
		{"Date", d.Date.Format(time.RFC1123Z)},
		{"Message-Id", "<" + d.MessageID + ">"},
		{"Auto-Submitted", "auto-replied"}, // RFC 3834 §5
		{"MIME-Version", "1.0"},
		{"Content-Type", `multipart/report; report-type=delivery-status; boundary="` + boundary + `"`},
	}
	for i := len(fields) - 1; i >= 0; i-- {
		h.Add(fields[i][0], fields[i][1])
	}
	if err := textproto.WriteHeader(bw, h); err != nil {
		return "", fmt.Errorf("write dsn header: %w", err)
	}

	text := humanText(d, failed)
	cte := "7bit"
	if !isASCII(text) {
		cte = "8bit"
	}
	fmt.Fprintf(bw, "This is a delivery status notification (RFC 3464).\r\n\r\n--%s\r\n", boundary)
	fmt.Fprintf(bw, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: %s\r\n\r\n", cte)
	bw.WriteString(crlf(text))

	fmt.Fprintf(bw, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(bw, "Reporting-MTA: dns; %s\r\n", d.Hostname)
	if !d.Arrival.IsZero() {
		fmt.Fprintf(bw, "Arrival-Date: %s\r\n", d.Arrival.Format(time.RFC1123Z))
	}
	for _, r := range d.Recipients {
		bw.WriteString("\r\n")
		fmt.Fprintf(bw, "Final-Recipient: %s\r\n", addressType(r.Recipient))
		fmt.Fprintf(bw, "Action: %s\r\n", r.Action)
		fmt.Fprintf(bw, "Status: %s\r\n", r.Status)
		if r.RemoteMTA != "" {
			fmt.Fprintf(bw, "Remote-MTA: dns; %s\r\n", r.RemoteMTA)
		}
		if r.Diagnostic != "" {
			fmt.Fprintf(bw, "Diagnostic-Code: smtp; %s\r\n", oneLine(r.Diagnostic))
		}
		if !r.LastAttempt.IsZero() {
			fmt.Fprintf(bw, "Last-Attempt-Date: %s\r\n", r.LastAttempt.Format(time.RFC1123Z))
		}
		if r.Action == ActionDelayed && !r.RetryUntil.IsZero() {
			fmt.Fprintf(bw, "Will-Retry-Until: %s\r\n", r.RetryUntil.Format(time.RFC1123Z))
		}
	}

	fmt.Fprintf(bw, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\n\r\n", boundary)
	var hb bytes.Buffer
	if err := textproto.WriteHeader(&hb, d.Header); err != nil {
		return "", fmt.Errorf("write original header: %w", err)
	}
	bw.Write(bytes.TrimRight(hb.Bytes(), "\r\n"))
	fmt.Fprintf(bw, "\r\n\r\n--%s--\r\n", boundary)
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("write dsn: %w", err)
	}
	return d.MessageID, nil
}

// humanText is the readable part: what happened to whom, and what to do.
func humanText(d DSN, failed bool) string {
	var b strings.Builder
	if failed {
		fmt.Fprintf(&b, "Your message could not be delivered to some or all of its recipients.\n")
	} else {
		fmt.Fprintf(&b, "Your message has not been delivered yet to some of its recipients.\n"+
			"Nothing needs to be done: %s keeps trying and writes again if it gives up.\n", d.Hostname)
	}
	if id := strings.TrimSpace(d.Header.Get("Message-Id")); id != "" {
		fmt.Fprintf(&b, "\nMessage: %s (queue id %s)\n", oneLine(id), d.QueueID)
	}
	for _, r := range d.Recipients {
		fmt.Fprintf(&b, "\n  %s: %s\n", r.Recipient, r.Action)
		if r.Diagnostic != "" {
			from := ""
			switch {
			case r.RemoteMTA != "" && r.Upstream:
				from = " (from " + d.Hostname + "'s upstream server " + r.RemoteMTA + ")"
			case r.RemoteMTA != "":
				from = " (from " + r.RemoteMTA + ")"
			}
			fmt.Fprintf(&b, "    reply%s: %s\n", from, oneLine(r.Diagnostic))
		}
		if r.Action == ActionDelayed && !r.RetryUntil.IsZero() {
			fmt.Fprintf(&b, "    retrying until %s\n", r.RetryUntil.Format(time.RFC1123Z))
		}
		if hint := statusHint(r.Status, r.Upstream, d.Hostname); hint != "" && r.Action == ActionFailed {
			fmt.Fprintf(&b, "    what to do: %s\n", hint)
		}
	}
	return b.String()
}

// statusHint says what the sender can do about a failure, by the enhanced
// status code's subject and detail (RFC 3463), and by where it happened:
// at the upstream of this service (host), whose administrator must act, or
// at the recipient's server.
func statusHint(status string, upstream bool, host string) string {
	switch {
	case upstream && strings.HasPrefix(status, "4.4.7"):
		return "the upstream server " + host + " hands mail to could not be reached, or refused its login, for the whole retry period. " +
			"The fault is on the sending side, not the recipient's: tell the administrator of " + host + " (its [delivery] smarthost or route), then send the message again."
	case upstream && (strings.HasPrefix(status, "5.7.") || strings.HasPrefix(status, "4.7.")):
		return "the upstream server " + host + " hands mail to refused it by policy or refused its login. " +
			"The fault is on the sending side, not the recipient's: tell the administrator of " + host + " (its route's credentials, and the sender domain's SPF, DKIM and DMARC: `mailroom doctor DOMAIN`)."
	case strings.HasPrefix(status, "5.1.10"):
		return "the recipient's domain publishes that it accepts no mail (null MX); use another address."
	case strings.HasPrefix(status, "5.1."), strings.HasPrefix(status, "4.1."):
		return "check the recipient's address for typing mistakes."
	case strings.HasPrefix(status, "5.2."):
		return "the recipient's mailbox is full or disabled; try later or reach them another way."
	case strings.HasPrefix(status, "5.7."):
		return "the receiving server refused the message by policy; an administrator can check the domain's SPF, DKIM and DMARC records with `mailroom doctor DOMAIN`."
	case strings.HasPrefix(status, "4.4.7"):
		return "the receiving server could not be reached for the whole retry period; try again later or ask the recipient's administrator."
	case strings.HasPrefix(status, "5.3.4"):
		return "the message is larger than the receiving server accepts; send smaller attachments."
	}
	return ""
}

// addressType formats a Final-Recipient value: rfc822 for ASCII addresses,
// utf-8 (RFC 6533) otherwise.
func addressType(addr string) string {
	if isASCII(addr) {
		return "rfc822; " + addr
	}
	return "utf-8; " + addr
}

// oneLine folds CR and LF into spaces, so a multi-line reply stays one
// header line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

// crlf turns LF line ends into CRLF.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
