package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"

	"mailroom/internal/admin"
	"mailroom/internal/daemon"
	"mailroom/internal/directory"
)

// quickstartInfo is what quickstart prints: where the server listens,
// the demo mailbox, the console and the certificate.
type quickstartInfo struct {
	user, password string // password "" when kept (kept) from an earlier run
	kept           bool
	hostname       string
	dataDir        string
	sub, tls       string // submission ports, STARTTLS and implicit TLS ("" when off)
	// imap, imaps are the IMAP ports (STARTTLS and implicit TLS), "" when
	// off; printed beside SMTP when the configuration has [imap] listeners.
	imap, imaps string
	consoleURL  string // "" when the console is off
	console     consoleLogin
	cert        string // the served certificate's file; "" with ACME
	selfSigned  bool
	configArg   string // " --config FILE" for the commands printed, or ""
}

// consoleLogin is the console administrator quickstart made, or the ones
// that exist.
type consoleLogin struct {
	made     string   // the user made on this run ("" when some existed)
	password string   // its password, shown once
	existing []string // the users that existed
}

// firstConsoleUser makes the console administrator "admin" with a
// generated password when there is none.
func firstConsoleUser(ctx context.Context, a *admin.Service) (consoleLogin, error) {
	us, err := a.ConsoleUsers(ctx)
	if err != nil || len(us) > 0 {
		l := consoleLogin{}
		for _, u := range us {
			l.existing = append(l.existing, u.Name)
		}
		return l, err
	}
	l := consoleLogin{made: "admin", password: directory.GeneratePassword()}
	if _, err := a.AddConsoleUser(ctx, l.made, l.password); err != nil {
		return l, fmt.Errorf("add the first console user: %w", err)
	}
	return l, nil
}

// configArg is the --config argument to repeat in printed commands.
func configArg(path string) string {
	if path == "" {
		return ""
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return " --config " + path
}

// listenPort is the port a daemon listener is bound to, "" when it is off.
func listenPort(d *daemon.Daemon, name string) string {
	a := d.Addr(name)
	if a == nil {
		return ""
	}
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// printSettings prints what a new user needs to reach a working client:
// the console, the SMTP (and IMAP) settings, and for each common client
// the one setting that makes it trust the certificate.
func printSettings(w io.Writer, q quickstartInfo) {
	fmt.Fprintf(w, "\nmailroom is running; data in %s. Stop with Ctrl-C.\n", q.dataDir)
	if q.sub != "587" || (q.tls != "" && q.tls != "465") {
		fmt.Fprintf(w, "Note: ports 587/465 were not available to this user, so mailroom listens on %s (STARTTLS) and %s (TLS).\n", q.sub, q.tls)
	}
	printConsole(w, q)

	password := q.password
	if q.kept {
		password = "<the demo password>"
		fmt.Fprintf(w, "\nThe demo mailbox %s keeps the password an earlier quickstart printed (apps using it go on working).\n", q.user)
		fmt.Fprintf(w, "For a new one: mailroom quickstart --reset-password%s\n", q.configArg)
	}
	fmt.Fprintf(w, "\n# Any client (SMTP submission)\n")
	fmt.Fprintf(w, "host:      localhost (or %s)\n", q.hostname)
	fmt.Fprintf(w, "port:      %s with STARTTLS", q.sub)
	if q.tls != "" {
		fmt.Fprintf(w, ", or %s with implicit TLS", q.tls)
	}
	fmt.Fprintf(w, "\nuser:      %s\npassword:  %s\n", q.user, password)
	printIMAP(w, q)

	ca := q.cert
	switch {
	case q.cert == "":
		fmt.Fprintf(w, "\nThe certificate comes from a public CA (ACME): clients trust it as it is.\n")
	case q.selfSigned:
		fmt.Fprintf(w, "\nThe certificate is self-signed: %s\nEach client below is told to trust it with one setting.\n", q.cert)
	default:
		fmt.Fprintf(w, "\nThe certificate is tls.cert_file, %s; if a public CA issued it, leave the trust settings below out.\n", q.cert)
	}
	if ca == "" {
		ca = "<not needed>"
	}
	fmt.Fprintf(w, "\n# Laravel .env (Symfony Mailer cannot take a CA file: add 'verify_peer' => false to the smtp mailer in config/mail.php)\n")
	fmt.Fprintf(w, "MAIL_MAILER=smtp\nMAIL_HOST=localhost\nMAIL_PORT=%s\nMAIL_USERNAME=%s\nMAIL_PASSWORD=%s\nMAIL_ENCRYPTION=tls\nMAIL_FROM_ADDRESS=%s\n", q.sub, q.user, password, q.user)
	fmt.Fprintf(w, "\n# Symfony .env\nMAILER_DSN=smtp://%s@localhost:%s?verify_peer=0\n", url.UserPassword(q.user, password).String(), q.sub)
	fmt.Fprintf(w, "\n# nodemailer\nnodemailer.createTransport({ host: \"localhost\", port: %s, secure: false, auth: { user: %q, pass: %q },\n  tls: { ca: [fs.readFileSync(%q)] } })\n", q.sub, q.user, password, ca)
	fmt.Fprintf(w, "\n# msmtp (~/.msmtprc)\naccount mailroom\nhost localhost\nport %s\ntls on\ntls_starttls on\ntls_trust_file %s\nauth on\nuser %s\npassword %s\nfrom %s\n", q.sub, ca, q.user, password, q.user)
	fmt.Fprintf(w, "\n# PHPMailer\n$mail->isSMTP(); $mail->Host = 'localhost'; $mail->Port = %s; $mail->SMTPSecure = PHPMailer::ENCRYPTION_STARTTLS;\n$mail->SMTPAuth = true; $mail->Username = '%s'; $mail->Password = '%s';\n$mail->SMTPOptions = ['ssl' => ['cafile' => '%s']];\n", q.sub, q.user, password, ca)
	fmt.Fprintf(w, "\nTry it: swaks --server localhost:%s --tls --tls-verify --tls-ca-path %s --auth-user %s --auth-password '%s' --from %s --to %s\n\n", q.sub, ca, q.user, password, q.user, q.user)
}

// printConsole prints the console's address and how to log in.
func printConsole(w io.Writer, q quickstartInfo) {
	if q.consoleURL == "" {
		fmt.Fprintf(w, "The web console is off (http.listen is empty).\n")
		return
	}
	fmt.Fprintf(w, "\nWeb console: %s\n", q.consoleURL)
	switch c := q.console; {
	case c.made != "":
		fmt.Fprintf(w, "  log in as %s with the password (shown once): %s\n", c.made, c.password)
	case len(c.existing) > 0:
		fmt.Fprintf(w, "  log in as %s; a forgotten password is replaced with: mailroom admin user passwd %s%s\n", c.existing[0], c.existing[0], q.configArg)
	}
	fmt.Fprintf(w, "  health check: %shealthz\n", q.consoleURL)
}

// printIMAP prints the IMAP settings beside the SMTP ones when the
// configuration has [imap] listeners.
func printIMAP(w io.Writer, q quickstartInfo) {
	if q.imap == "" && q.imaps == "" {
		return
	}
	fmt.Fprintf(w, "\n# Reading mail (IMAP)\nhost:      localhost (or %s)\nport:      ", q.hostname)
	switch {
	case q.imaps != "" && q.imap != "":
		fmt.Fprintf(w, "%s with implicit TLS, or %s with STARTTLS\n", q.imaps, q.imap)
	case q.imaps != "":
		fmt.Fprintf(w, "%s with implicit TLS\n", q.imaps)
	default:
		fmt.Fprintf(w, "%s with STARTTLS\n", q.imap)
	}
	fmt.Fprintf(w, "user:      %s (same password)\n", q.user)
}

// consoleURL is where a browser opens the console served on the HTTP
// listen address listen (configured, or bound by a running server): a
// listener on every interface is reached at localhost. "" when listen is
// "" (the console is off) or not host:port.
func consoleURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if listen == "" || err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
