// Package config owns mailroom's configuration: the TOML schema, the default
// of every key, and validation. A missing file is not an error: every key has
// a default, so `mailroom serve` runs with none.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is the whole configuration file. Each field documents its TOML key
// and its default.
type Config struct {
	// DataDir is where the database, message bodies and the generated
	// certificate live. Relative paths are relative to the config file's
	// folder (or the working directory when there is no file). Default "data".
	DataDir string `toml:"data_dir"`
	// Hostname is announced in the greeting, EHLO and Received headers:
	// at most 255 octets, with no spaces or control characters (they would
	// end or forge a reply line or header). Default: the OS hostname.
	Hostname string `toml:"hostname"`

	Store      Store      `toml:"store"`
	Submission Submission `toml:"submission"`
	IMAP       IMAP       `toml:"imap"`
	TLS        TLS        `toml:"tls"`
	HTTP       HTTP       `toml:"http"`
	Log        Log        `toml:"log"`
	Addresses  Addresses  `toml:"addresses"`
	Retention  Retention  `toml:"retention"`
	Limits     Limits     `toml:"limits"`
	Delivery   Delivery   `toml:"delivery"`
	Trace      Trace      `toml:"trace"`
	OAuth      OAuth      `toml:"oauth"`

	// dir is the folder relative paths are resolved against.
	dir string
}

// Store configures where mailroom keeps its state (directory, queue,
// counters, trace) and message bodies.
type Store struct {
	// Driver is "sqlite": the embedded database data_dir/mailroom.db; or
	// "postgres": the PostgreSQL database DSN names, which several nodes
	// may share. Default "sqlite".
	Driver string `toml:"driver"`
	// DSN is the PostgreSQL connection string, as a URL
	// ("postgres://mailroom@db.example.com/mailroom") or in keyword=value
	// form; required when Driver is "postgres" and only then. libpq's
	// environment (PGPASSWORD, PGPASSFILE, PGSSLMODE...) applies, so the
	// password need not be in the file. Default "".
	DSN string `toml:"dsn"`
	// LeaseTTL bounds how long a node that dies (or loses the database)
	// keeps its mailboxes' concurrency slots with the postgres driver:
	// each transaction in flight holds a lease the node renews every
	// third of this, and others stop counting it once it expires. Unused
	// with sqlite. Default "30s" (also when "0s").
	LeaseTTL Duration `toml:"lease_ttl"`
	// Bodies is where message bodies go. "auto": bodies up to
	// InlineBodyMax in the database, written in the same transaction as
	// the message's rows (one commit makes both durable); larger ones as
	// files under data_dir/blobs with sqlite, in the database (in 1 MiB
	// parts) with postgres, so nodes need no shared filesystem.
	// "database": every body in the database. "files": every body as a
	// file under data_dir/blobs (a cluster then needs data_dir on a
	// shared filesystem). Default "auto".
	Bodies string `toml:"bodies"`
	// InlineBodyMax is the largest body (header included) kept in memory
	// during DATA and written with its acceptance; at most 1048576. Each
	// session in DATA holds up to this much memory. Default 262144.
	InlineBodyMax int `toml:"inline_body_max"`
}

// MaxInlineBody is the largest store.inline_body_max: an inline body is
// written as one database body part, and parts are at most
// store.BodyPartSize (blob's tests hold the two together; config imports
// no storage package).
const MaxInlineBody = 1 << 20

// Store drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Where bodies go (Store.Bodies).
const (
	BodiesAuto     = "auto"
	BodiesDatabase = "database"
	BodiesFiles    = "files"
)

// Submission configures the SMTP submission listeners.
type Submission struct {
	// Listen is the STARTTLS submission address. Default ":587".
	Listen string `toml:"listen"`
	// ListenTLS is the implicit-TLS submission address; "" turns it off.
	// Default ":465".
	ListenTLS string `toml:"listen_tls"`
	// ListenRelay is a port-25 style address for devices that connect to
	// port 25 ("" turns it off, e.g. ":25"): STARTTLS offered, not
	// required; a client sends without AUTH only as a connector's mailbox
	// (mailroom connector add), anyone else must log in (AUTH under TLS) or
	// gets 530 5.7.57: it is never an open relay. PROXY headers are taken
	// from submission.proxy_from as on the other listeners. Default "".
	ListenRelay string `toml:"listen_relay"`
	// MaxMessageBytes caps a message's size; larger ones get 552 5.3.4.
	// Default 36700160 (35 MiB, as Exchange Online).
	MaxMessageBytes int64 `toml:"max_message_bytes"`
	// MaxHeaderBytes caps the header section of a message (its fields and
	// the blank line after them), checked while the message streams in,
	// before anything is parsed or stored; a longer header gets 552 5.3.4
	// naming this key. Default 262144 (256 KiB, as Exchange Online;
	// Postfix's header_size_limit is 100 KiB).
	MaxHeaderBytes int64 `toml:"max_header_bytes"`
	// ShutdownGrace bounds how long SIGTERM waits for in-flight
	// transactions before closing their connections. Default "10s".
	ShutdownGrace Duration `toml:"shutdown_grace"`
	// AuthCacheTTL is how long a verified login is remembered so that a
	// client reconnecting for every message does not pay the argon2id hash
	// each time; any directory change (password, revocation, SMTP AUTH off)
	// forgets every entry at once. "0s" turns it off. Default "5m".
	AuthCacheTTL Duration `toml:"auth_cache_ttl"`
	// CommandTimeout is how long the server waits for each command line
	// (and each BDAT chunk) to arrive in full; past it the client gets
	// 421 4.4.2 and the connection closes. Default "5m" (RFC 5321
	// §4.5.3.2.7).
	CommandTimeout Duration `toml:"command_timeout"`
	// DataTimeout is how long a message sent with DATA may take to arrive,
	// from the 354 reply to the final dot; past it the client gets
	// 421 4.4.2, nothing is accepted and the connection closes. Raise it
	// for large messages over slow links. Default "10m".
	DataTimeout Duration `toml:"data_timeout"`
	// ProxyFrom lists the addresses (CIDR prefixes, e.g. "10.0.0.0/8", or
	// single addresses) of TCP load balancers that put a PROXY protocol
	// header (v1 or v2) before each connection to the submission
	// listeners. A connection from a listed address must open with one,
	// within 5 seconds, and the client address it carries is the one
	// limits, network restrictions, the trace and the log see; without a
	// valid header it is closed. A header from any other address is
	// refused: the connection is closed. At most 256 entries; a prefix
	// of length 0 (every address) is refused. Default [] (off: no
	// header is read from anyone).
	ProxyFrom []string `toml:"proxy_from"`

	// MaxConnectionsPerAddress caps the connections open at once from one
	// client address (IPv6: its /64); one more gets 421 4.7.0 at connect
	// and is closed (Postfix's smtpd_client_connection_count_limit). 0
	// turns the cap off. Default 50.
	MaxConnectionsPerAddress int `toml:"max_connections_per_address"`
	// ConnectionRatePerAddress caps the new connections from one client
	// address (IPv6: its /64) per minute; past it 421 4.7.0 naming when to
	// retry, and the connection is closed (Postfix's
	// smtpd_client_connection_rate_limit). 0 turns the cap off.
	// Default 600.
	ConnectionRatePerAddress int `toml:"connection_rate_per_address"`
	// MaxAuthPerAddress caps the logins of one client address (IPv6: its
	// /64) whose password is being checked at once; more wait their turn
	// within hash_wait, then get 454 4.7.0. Default 4.
	MaxAuthPerAddress int `toml:"max_auth_per_address"`
	// MaxConcurrentHashes caps the password hashes computed at once,
	// server-wide (argon2id: 19 MiB and one core each, for tens of
	// milliseconds); more wait their turn within hash_wait, then get
	// 454 4.7.0. 0 means half the cores, at least one, which leaves the
	// other half to the clients already logged in. Default 0.
	MaxConcurrentHashes int `toml:"max_concurrent_hashes"`
	// HashWait is how long a login may wait for its turn to have its
	// password checked (max_auth_per_address, max_concurrent_hashes)
	// before it gets 454 4.7.0. Default "5s".
	HashWait Duration `toml:"hash_wait"`
}

// TLS configures the server certificate.
type TLS struct {
	// CertFile and KeyFile are PEM files. Both empty (the default): a
	// self-signed certificate is made in data_dir on first start.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// ACME obtains the certificate for hostname and acme_names from an
	// ACME CA (RFC 8555; Let's Encrypt by default) and renews it in the
	// background when a third of its lifetime is left, without dropping
	// a connection. Off by default; not with cert_file. README "Automatic
	// certificates (ACME)".
	ACME bool `toml:"acme"`
	// ACMEDirectory is the CA's directory URL. Default Let's Encrypt
	// production, "https://acme-v02.api.letsencrypt.org/directory"; its
	// staging directory is "https://acme-staging-v02.api.letsencrypt.org/directory".
	ACMEDirectory string `toml:"acme_directory"`
	// ACMEEmail is the account's contact address, where the CA sends
	// expiry warnings. Default "" (no contact).
	ACMEEmail string `toml:"acme_email"`
	// ACMEChallenge is how the CA checks this server holds the names:
	// "tls-alpn-01" (default; the CA connects to port 443 of each name),
	// "http-01" (port 80) or "dns-01" (a TXT record the server adds to
	// the zone by DNS dynamic UPDATE, RFC 2136; needs acme_dns_server).
	ACMEChallenge string `toml:"acme_challenge"`
	// ACMEDNSServer is the primary DNS server accepting dynamic UPDATEs
	// for dns-01, host:port, e.g. "ns1.example.com:53". Only with
	// acme_challenge = "dns-01", where it is required.
	ACMEDNSServer string `toml:"acme_dns_server"`
	// ACMEDNSZone is the zone updated, e.g. "example.com". Default "":
	// the zone the names' SOA lookup finds.
	ACMEDNSZone string `toml:"acme_dns_zone"`
	// ACMEDNSTSIGName is the TSIG key (hmac-sha256) that signs the
	// updates, as the DNS server names it; "" (default) sends them
	// unsigned. With it, acme_dns_tsig_secret or acme_dns_tsig_secret_file.
	ACMEDNSTSIGName string `toml:"acme_dns_tsig_name"`
	// ACMEDNSTSIGSecret is the key's secret, base64 as in BIND's and
	// knot's key files.
	ACMEDNSTSIGSecret string `toml:"acme_dns_tsig_secret"`
	// ACMEDNSTSIGSecretFile is a file holding the secret instead
	// (relative to the config file), so the config needs no secret.
	ACMEDNSTSIGSecretFile string `toml:"acme_dns_tsig_secret_file"`
	// ACMEChallengeListen is where the challenge is answered, when a port
	// forward sends the CA's port 443 (or 80) elsewhere. Default "": ":443"
	// for tls-alpn-01, ":80" for http-01. Bound only while a challenge is
	// open.
	ACMEChallengeListen string `toml:"acme_challenge_listen"`
	// ACMECAFile is a PEM file of roots to trust for the CA's own HTTPS
	// (a private CA, a test server). Default "": the system roots.
	ACMECAFile string `toml:"acme_ca_file"`
	// ACMENames are names the certificate covers besides hostname, e.g.
	// ["smtp.example.com"]. At most 99 (Let's Encrypt's limit is 100
	// names a certificate). Default [].
	ACMENames []string `toml:"acme_names"`
}

// HTTP configures the admin console and API listener.
type HTTP struct {
	// Listen is the admin console/API address; "" turns it off.
	// Default "127.0.0.1:8080".
	Listen string `toml:"listen"`
	// Pprof serves Go's profiler under /debug/pprof/ on this listener, for
	// performance work. Default false.
	Pprof bool `toml:"pprof"`
}

// Addresses configures how addresses compare.
type Addresses struct {
	// PlusSeparator makes local+tag@domain an address of local@domain, for
	// receiving, and lets the owner of local@domain send as it. "+" or ""
	// (plus-addressing off); mailbox and alias names may not contain it.
	// Other characters are refused: "-" would take every hyphenated name
	// (mary-jane@) for a tagged form of another (mary@). Default "+".
	PlusSeparator string `toml:"plus_separator"`
}

// Retention configures the sweeper that enforces Sent Items retention and
// frees message bodies nothing references any more.
type Retention struct {
	// SweepInterval is how often the sweeper runs. Default "1h".
	SweepInterval Duration `toml:"sweep_interval"`
}

// Limits are the server-wide defaults of the per-mailbox throttles and the
// login protection. Domains and mailboxes may override the throttles
// (mailroom domain|mailbox set --concurrent ...).
type Limits struct {
	// Concurrent is how many transactions (MAIL FROM to end) one mailbox
	// may have in flight across all its connections. Default 3.
	Concurrent int `toml:"concurrent"`
	// MessagesPerMinute caps accepted messages per mailbox in any sliding
	// minute; past it MAIL gets 450 4.7.0 with the time to retry. Default 30.
	MessagesPerMinute int `toml:"messages_per_minute"`
	// ConcurrencyWait is how long MAIL waits for a free slot of the
	// mailbox (Concurrent) before it answers 432 4.3.2; for clients that
	// fail at the first 432 instead of retrying (nodemailer's pool, msmtp).
	// At most 4m, under the 5 minutes a client waits for the reply to MAIL
	// (RFC 5321 §4.5.3.2.2). Default "0s": answer at once, as Exchange.
	ConcurrencyWait Duration `toml:"concurrency_wait"`
	// RecipientsPerMessage caps RCPT TO per message; extra ones get
	// 452 4.5.3. Default 500.
	RecipientsPerMessage int `toml:"recipients_per_message"`
	// RecipientsPerDay caps envelope recipients of accepted messages per
	// mailbox in any rolling 24 hours. Default 10000.
	RecipientsPerDay int `toml:"recipients_per_day"`
	// DailyRecipientsExceeded is "defer" (transient 452 4.5.3 naming when
	// the budget returns) or "reject" (554 5.2.0, as Exchange Online).
	// Default "defer".
	DailyRecipientsExceeded string `toml:"daily_recipients_exceeded"`

	// LoginFailuresPerAddress failed AUTH attempts from one client address
	// (IPv6: its /64) within LoginWindow block that address for
	// LoginCooloff: 421 4.7.0 and disconnect. Default 10.
	LoginFailuresPerAddress int `toml:"login_failures_per_address"`
	// LoginFailuresPerMailbox failed AUTH attempts for one mailbox, from
	// any addresses, within LoginWindow block further attempts for it from
	// addresses that have not logged in to it successfully before, so an
	// attacker cannot lock the owner out. Default 30.
	LoginFailuresPerMailbox int `toml:"login_failures_per_mailbox"`
	// LoginWindow is the window failures are counted in. Default "15m".
	LoginWindow Duration `toml:"login_window"`
	// LoginCooloff is how long a block lasts. Default "15m".
	LoginCooloff Duration `toml:"login_cooloff"`
}

// Log configures the process log (not the message trace).
type Log struct {
	// Level is one of debug, info, warn, error. Default "info".
	Level string `toml:"level"`
	// Format is "text" or "json". Default "text".
	Format string `toml:"format"`
}

// Default returns the configuration used when a key is absent.
func Default() Config {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return Config{
		DataDir:  "data",
		Hostname: host,
		Submission: Submission{
			Listen:          ":587",
			ListenTLS:       ":465",
			MaxMessageBytes: 36700160,
			MaxHeaderBytes:  256 << 10,
			ShutdownGrace:   Duration(10 * time.Second),
			AuthCacheTTL:    Duration(5 * time.Minute),
			CommandTimeout:  Duration(5 * time.Minute),
			DataTimeout:     Duration(10 * time.Minute),

			MaxConnectionsPerAddress: 50, ConnectionRatePerAddress: 600,
			MaxAuthPerAddress: 4, HashWait: Duration(5 * time.Second),
		},
		IMAP:      DefaultIMAP(),
		Store:     Store{Driver: DriverSQLite, LeaseTTL: Duration(30 * time.Second), Bodies: BodiesAuto, InlineBodyMax: 256 << 10},
		HTTP:      HTTP{Listen: "127.0.0.1:8080"},
		TLS:       TLS{ACMEDirectory: LetsEncrypt, ACMEChallenge: ChallengeTLSALPN},
		Log:       Log{Level: "info", Format: "text"},
		Addresses: Addresses{PlusSeparator: "+"},
		Retention: Retention{SweepInterval: Duration(time.Hour)},
		Limits: Limits{
			Concurrent: 3, MessagesPerMinute: 30, RecipientsPerMessage: 500, RecipientsPerDay: 10000,
			DailyRecipientsExceeded: "defer",
			LoginFailuresPerAddress: 10, LoginFailuresPerMailbox: 30,
			LoginWindow: Duration(15 * time.Minute), LoginCooloff: Duration(15 * time.Minute),
		},
		Delivery: DefaultDelivery(),
		Trace:    DefaultTrace(),
	}
}

// Load reads the TOML file at path over the defaults. An empty path means no
// file: the defaults, relative to the working directory. A path that does
// not exist is an error (a typo should not silently run on defaults).
func Load(path string) (Config, error) {
	c := Default()
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return c, fmt.Errorf("working directory: %w", err)
		}
		c.dir = wd
		return c, c.Validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return c, fmt.Errorf("config file %s does not exist (omit --config to run on defaults)", path)
		}
		return c, fmt.Errorf("read config: %w", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var sm *toml.StrictMissingError
		if errors.As(err, &sm) {
			return c, fmt.Errorf("config %s: unknown key:\n%s", path, sm.String())
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			if k := de.Key(); len(k) > 0 {
				return c, fmt.Errorf("config %s:%d:%d: key %s: %v", path, row, col, strings.Join(k, "."), de)
			}
			return c, fmt.Errorf("config %s:%d:%d: %v", path, row, col, de)
		}
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return c, fmt.Errorf("config path: %w", err)
	}
	c.dir = filepath.Dir(abs)
	return c, c.Validate()
}

// MaxConcurrencyWait bounds limits.concurrency_wait: under the 5 minutes
// a client waits for the reply to MAIL (RFC 5321 §4.5.3.2.2).
const MaxConcurrencyWait = 4 * time.Minute

// FieldError names the key whose value is invalid.
type FieldError struct {
	Key    string
	Value  any
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("config key %s = %v: %s", e.Key, e.Value, e.Reason)
}

// Validate checks every key's value.
func (c *Config) Validate() error {
	if strings.TrimSpace(c.DataDir) == "" {
		return &FieldError{"data_dir", `""`, "must name a folder"}
	}
	if err := validHostname(c.Hostname); err != nil {
		return err
	}
	for key, addr := range map[string]string{
		"submission.listen": c.Submission.Listen, "submission.listen_tls": c.Submission.ListenTLS, "submission.listen_relay": c.Submission.ListenRelay,
		"http.listen": c.HTTP.Listen,
	} {
		if addr == "" && key != "submission.listen" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return &FieldError{key, fmt.Sprintf("%q", addr), "want host:port, e.g. \":587\""}
		}
	}
	if err := c.Store.validate(); err != nil {
		return err
	}
	if c.Submission.MaxMessageBytes <= 0 {
		return &FieldError{"submission.max_message_bytes", c.Submission.MaxMessageBytes, "must be positive"}
	}
	if c.Submission.MaxHeaderBytes <= 0 || c.Submission.MaxHeaderBytes > 64<<20 {
		// Over max_message_bytes it is harmless: the message's own limit
		// comes first.
		return &FieldError{"submission.max_header_bytes", c.Submission.MaxHeaderBytes, "must be positive and at most 64 MiB (67108864)"}
	}
	if c.Submission.CommandTimeout.Std() <= 0 || c.Submission.DataTimeout.Std() <= 0 {
		return &FieldError{"submission.command_timeout", c.Submission.CommandTimeout.Std(), "command_timeout and data_timeout must be positive"}
	}
	if err := validProxyFrom(c.Submission.ProxyFrom); err != nil {
		return err
	}
	if err := c.Submission.validateLogins(); err != nil {
		return err
	}
	if err := c.IMAP.validate(); err != nil {
		return err
	}
	if err := c.TLS.validate(c.Hostname); err != nil {
		return err
	}
	if err := c.Addresses.validate(); err != nil {
		return err
	}
	if c.Retention.SweepInterval.Std() < time.Second {
		return &FieldError{"retention.sweep_interval", c.Retention.SweepInterval.Std(), "must be at least 1s"}
	}
	for key, v := range map[string]int{
		"limits.concurrent": c.Limits.Concurrent, "limits.messages_per_minute": c.Limits.MessagesPerMinute,
		"limits.recipients_per_message": c.Limits.RecipientsPerMessage, "limits.recipients_per_day": c.Limits.RecipientsPerDay,
		"limits.login_failures_per_address": c.Limits.LoginFailuresPerAddress, "limits.login_failures_per_mailbox": c.Limits.LoginFailuresPerMailbox,
	} {
		if v <= 0 {
			return &FieldError{key, v, "must be positive"}
		}
	}
	if w := c.Limits.ConcurrencyWait.Std(); w < 0 || w > MaxConcurrencyWait {
		return &FieldError{"limits.concurrency_wait", w, "want 0s (answer 432 4.3.2 at once) up to 4m"}
	}
	if c.Limits.DailyRecipientsExceeded != "defer" && c.Limits.DailyRecipientsExceeded != "reject" {
		return &FieldError{"limits.daily_recipients_exceeded", c.Limits.DailyRecipientsExceeded, "want defer (452 4.5.3, retry later) or reject (554 5.2.0)"}
	}
	if c.Limits.LoginWindow.Std() <= 0 || c.Limits.LoginCooloff.Std() <= 0 {
		return &FieldError{"limits.login_window", c.Limits.LoginWindow.Std(), "login_window and login_cooloff must be positive"}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return &FieldError{"log.level", c.Log.Level, "want debug, info, warn or error"}
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return &FieldError{"log.format", c.Log.Format, "want text or json"}
	}
	if err := c.Trace.validate(); err != nil {
		return err
	}
	if err := c.OAuth.validate(); err != nil {
		return err
	}
	return c.Delivery.validate()
}

// maxHostname bounds hostname: a domain name is at most 255 octets
// (RFC 1035 §2.3.4).
const maxHostname = 255

// validHostname refuses a hostname that is empty, too long, or holds a
// space or a control character: it is written into replies and headers,
// where CR or LF would end the line and start one of its own.
func validHostname(h string) error {
	if h == "" {
		return &FieldError{"hostname", `""`, "must be set (the OS hostname is the default)"}
	}
	if len(h) > maxHostname {
		return &FieldError{"hostname", fmt.Sprintf("(%d octets)", len(h)), "want at most 255 octets"}
	}
	for i := 0; i < len(h); i++ {
		if h[i] <= ' ' || h[i] == 0x7f {
			return &FieldError{"hostname", fmt.Sprintf("%q", h), "must not contain spaces or control characters; want a name such as \"mail.example.com\""}
		}
	}
	return nil
}

// validate checks the plus separator.
func (a Addresses) validate() error {
	switch a.PlusSeparator {
	case "+", "":
	default:
		return &FieldError{"addresses.plus_separator", fmt.Sprintf("%q", a.PlusSeparator), `want "+" or "" (off): another separator such as "-" would make hyphenated names (mary-jane@) tagged forms of other addresses (mary@)`}
	}
	return nil
}

// maxAddress bounds delivery.postmaster: a path is at most 256 octets
// with its angle brackets (RFC 5321 §4.5.3.1.3).
const maxAddress = 254

// validate checks the driver and that a DSN is given exactly when the
// driver needs one. The DSN is never repeated in an error: it may hold a
// password.
func (s Store) validate() error {
	switch s.Driver {
	case DriverSQLite:
		if s.DSN != "" {
			return &FieldError{"store.dsn", "(set)", `only the postgres driver uses a DSN: set store.driver = "postgres", or remove store.dsn`}
		}
	case DriverPostgres:
		if strings.TrimSpace(s.DSN) == "" {
			return &FieldError{"store.dsn", `""`, `required with store.driver = "postgres", e.g. "postgres://mailroom@db.example.com/mailroom"`}
		}
		if t := s.LeaseTTL.Std(); t != 0 && t < time.Second {
			return &FieldError{"store.lease_ttl", t, `want at least "1s" (or unset: "30s")`}
		}
	default:
		return &FieldError{"store.driver", fmt.Sprintf("%q", s.Driver), `want "sqlite" (default) or "postgres"`}
	}
	switch s.Bodies {
	case "", BodiesAuto, BodiesDatabase, BodiesFiles: // "": auto
	default:
		return &FieldError{"store.bodies", fmt.Sprintf("%q", s.Bodies), `want "auto" (default), "database" or "files"`}
	}
	if s.InlineBodyMax < 0 || s.InlineBodyMax > MaxInlineBody {
		return &FieldError{"store.inline_body_max", s.InlineBodyMax, fmt.Sprintf("want 0 to %d bytes (default 262144)", MaxInlineBody)}
	}
	return nil
}

// Path resolves p against the config file's folder, unless p is absolute.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// DataPath is the absolute data directory.
func (c *Config) DataPath() string { return c.Path(c.DataDir) }

// SetDir sets the folder relative paths resolve against (used by quickstart
// and tests that build a Config in code).
func (c *Config) SetDir(dir string) { c.dir = dir }
