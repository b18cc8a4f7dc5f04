// Package admin owns every administrative operation (domains, mailboxes,
// passwords) with its validation, so that the CLI, the JSON API and the
// console change the directory the same way. It writes through the store;
// running servers notice through the store's change counter.
package admin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/blob"
	"mailroom/internal/config"
	"mailroom/internal/directory"
	"mailroom/internal/dnscheck"
	"mailroom/internal/store"
	"mailroom/internal/store/postgres"
	"mailroom/internal/store/sqlite"
)

// DatabaseFile is the SQLite database's name inside data_dir.
const DatabaseFile = "mailroom.db"

// MinPasswordLen is the shortest password an administrator may set.
const MinPasswordLen = 8

// Errors callers branch on; messages that wrap them say what to do.
var (
	ErrInvalid  = errors.New("invalid")        // a value fails validation
	ErrExists   = errors.New("already exists") // the object to create exists
	ErrNotFound = errors.New("does not exist") // the object named does not exist
)

// OpenStore opens the store the configuration names: the embedded SQLite
// database in data_dir (store.driver "sqlite", the default) or the
// PostgreSQL database store.dsn names (store.driver "postgres"). It is the
// one place that picks the implementation. It creates data_dir when needed:
// message bodies live there with either driver.
func OpenStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	dir := cfg.DataPath()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data_dir %s: %w", dir, err)
	}
	return openStore(ctx, cfg)
}

// ErrNoDataDir is OpenExistingStore's answer when data_dir does not exist.
var ErrNoDataDir = errors.New("data directory does not exist")

// OpenExistingStore opens the store as OpenStore does but never creates
// data_dir: administrative commands change an existing installation, and
// one run from the wrong folder must not start an empty one. With SQLite,
// data_dir must exist (ErrNoDataDir); the database in it is made when
// missing, as serve would.
func OpenExistingStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	if cfg.Store.Driver == config.DriverSQLite || cfg.Store.Driver == "" {
		dir := cfg.DataPath()
		if fi, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) || err == nil && !fi.IsDir() {
			return nil, fmt.Errorf("%w: %s", ErrNoDataDir, dir)
		} else if err != nil {
			return nil, fmt.Errorf("open data_dir %s: %w", dir, err)
		}
	}
	return openStore(ctx, cfg)
}

// openStore opens the store of an existing data_dir.
func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
	dir := cfg.DataPath()
	switch cfg.Store.Driver {
	case config.DriverPostgres:
		st, err := postgres.Open(ctx, cfg.Store.DSN)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	case config.DriverSQLite, "":
		st, err := sqlite.Open(ctx, filepath.Join(dir, DatabaseFile))
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	return nil, fmt.Errorf("open store: unknown store.driver %q", cfg.Store.Driver)
}

// OpenBodies returns where message bodies go, as [store] bodies says, and
// the file store it uses (nil when every body is in the database and
// data_dir/blobs holds none from before). The caller closes the file store.
func OpenBodies(cfg config.Config, st store.Store) (blob.Store, *blob.FS, error) {
	dir := cfg.DataPath()
	mode := cfg.Store.Bodies
	if mode == "" {
		mode = config.BodiesAuto
	}
	var files *blob.FS
	if mode == config.BodiesFiles || (mode == config.BodiesAuto && cfg.Store.Driver != config.DriverPostgres) {
		fs, err := blob.Open(filepath.Join(dir, "blobs"))
		if err != nil {
			return nil, nil, err
		}
		files = fs
	}
	if mode == config.BodiesFiles {
		return files, files, nil
	}
	spool := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(spool, 0o750); err != nil {
		if files != nil {
			files.Close()
		}
		return nil, nil, fmt.Errorf("create spool dir %s: %w", spool, err)
	}
	d := &blob.DB{Bodies: st, Files: files, InlineMax: cfg.Store.InlineBodyMax, SpoolDir: spool}
	if files == nil {
		// Bodies stored as files before (bodies = "files", or a version
		// that kept every body as a file) stay readable.
		legacy := filepath.Join(dir, "blobs")
		if ents, err := os.ReadDir(legacy); err == nil && len(ents) > 0 {
			fs, err := blob.Open(legacy)
			if err != nil {
				return nil, nil, err
			}
			d.Legacy, files = fs, fs
		}
	}
	return d, files, nil
}

// Service runs administrative operations against a store.
type Service struct {
	st store.Store
	// Params are the argon2id costs of new password hashes.
	Params directory.Params
	// Limits are the server-wide default limits (from the configuration),
	// for showing effective limits.
	Limits store.Limits
	// DataDir is the data directory, where a running server publishes
	// live usage.
	DataDir string
	// Blobs holds the message bodies, for viewing and downloading stored
	// messages.
	Blobs blob.Store
	// PlusSeparator is addresses.plus_separator, which no mailbox or
	// alias name may contain; New sets the default, "+".
	PlusSeparator string
	// OAuthIssuers are the configured [[oauth.issuers]] (OAuthIssuers),
	// the only ones an app-only OAuth client may be added for.
	OAuthIssuers []string
	// DNS answers the doctor's lookups when the console runs it
	// (CheckDomain); nil turns the console's check off.
	DNS dnscheck.Resolver
	// DoctorOptions are the doctor's view of the configuration, for
	// CheckDomain.
	DoctorOptions DoctorOptions
	// DoctorTimeout bounds one doctor run; 0 is DefaultDoctorTimeout.
	DoctorTimeout time.Duration
}

// New returns a Service on st.
func New(st store.Store) *Service {
	return &Service{st: st, Params: directory.DefaultParams, PlusSeparator: config.Default().Addresses.PlusSeparator}
}

// AddDomain adds a hosted domain, given in any case or as a U-label.
func (s *Service) AddDomain(ctx context.Context, name string) (store.Domain, error) {
	return s.AddDomainWithRole(ctx, name, store.DomainHosted)
}

// AddDomainWithRole adds a domain with role ("" is store.DomainHosted), in
// one directory change: a relay domain is never seen hosted and empty.
func (s *Service) AddDomainWithRole(ctx context.Context, name, role string) (store.Domain, error) {
	d, err := address.Domain(name)
	if err != nil {
		return store.Domain{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if role, err = ParseRole(role); err != nil {
		return store.Domain{}, err
	}
	dom, err := s.st.CreateDomain(ctx, d, role)
	if errors.Is(err, store.ErrConflict) {
		return dom, fmt.Errorf("domain %s: %w", d, ErrExists)
	}
	return dom, err
}

// ParseRole validates a domain role: hosted (also "") or relay.
func ParseRole(role string) (string, error) {
	switch role {
	case "", store.DomainHosted:
		return store.DomainHosted, nil
	case store.DomainRelay:
		return role, nil
	}
	return "", fmt.Errorf("%w: domain role %q: want hosted (mail to local Inboxes) or relay (every recipient goes by the domain's route)", ErrInvalid, role)
}

// Domains lists the domains.
func (s *Service) Domains(ctx context.Context) ([]store.Domain, error) { return s.st.Domains(ctx) }

// DomainChange lists the domain settings to change; nil fields stay.
type DomainChange struct {
	DisplayName *string   // store.DisplayNameClient or store.DisplayNameDirectory
	Role        *string   // store.DomainHosted or store.DomainRelay
	Networks    *[]string // CIDR prefixes; empty: no restriction
	Limits      LimitChange
}

// SetDomain changes a domain's settings.
func (s *Service) SetDomain(ctx context.Context, name string, c DomainChange) (store.Domain, error) {
	d, err := s.Domain(ctx, name)
	if err != nil {
		return d, err
	}
	if c.DisplayName != nil {
		switch *c.DisplayName {
		case store.DisplayNameClient, store.DisplayNameDirectory:
			d.DisplayName = *c.DisplayName
		default:
			return d, fmt.Errorf("%w: display-name policy %q: want client (keep what the client wrote) or directory (use the mailbox's display name)", ErrInvalid, *c.DisplayName)
		}
	}
	if c.Role != nil {
		if d.Role, err = ParseRole(*c.Role); err != nil {
			return d, err
		}
	}
	if c.Networks != nil {
		if d.Networks, err = ParseNetworks(*c.Networks); err != nil {
			return d, err
		}
	}
	if err := c.Limits.apply(&d.Limits); err != nil {
		return d, err
	}
	return d, s.st.UpdateDomain(ctx, d)
}

// Domain returns one domain.
func (s *Service) Domain(ctx context.Context, name string) (store.Domain, error) {
	n, err := address.Domain(name)
	if err != nil {
		return store.Domain{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	ds, err := s.st.Domains(ctx)
	if err != nil {
		return store.Domain{}, err
	}
	for _, d := range ds {
		if d.Name == n {
			return d, nil
		}
	}
	return store.Domain{}, fmt.Errorf("domain %s %w (mailroom domain list shows the domains)", n, ErrNotFound)
}

// RemoveDomain removes a domain that has no mailboxes left.
func (s *Service) RemoveDomain(ctx context.Context, name string) error {
	d, err := address.Domain(name)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	err = s.st.DeleteDomain(ctx, d)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("domain %s %w (mailroom domain list shows the domains)", d, ErrNotFound)
	case errors.Is(err, store.ErrConflict):
		return conflictError(fmt.Sprintf("domain %s still has mailboxes; remove them first (mailroom mailbox list --domain %s)", d, d))
	}
	return err
}

// NewMailbox describes a mailbox to create.
type NewMailbox struct {
	Address     string
	DisplayName string
	// Password is the login password; empty means generate one. Ignored
	// for shared mailboxes, which cannot log in.
	Password string
	Shared   bool
}

// AddMailbox creates a mailbox. It returns the generated password, if one
// was generated (to be shown once), else "".
func (s *Service) AddMailbox(ctx context.Context, n NewMailbox) (store.Mailbox, string, error) {
	addr, err := address.Normalize(n.Address)
	if err != nil {
		return store.Mailbox{}, "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := s.checkSeparator("mailbox", addr); err != nil {
		return store.Mailbox{}, "", err
	}
	m := store.Mailbox{Address: addr, Domain: address.DomainOf(addr), DisplayName: strings.TrimSpace(n.DisplayName), Shared: n.Shared, SMTPAuth: !n.Shared, IMAP: true, SaveSent: true}
	generated := ""
	if !n.Shared {
		pw := n.Password
		if pw == "" {
			pw = directory.GeneratePassword()
			generated = pw
		}
		if m.PasswordHash, err = s.hash(pw); err != nil {
			return store.Mailbox{}, "", err
		}
	}
	m, err = s.st.CreateMailbox(ctx, m)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return m, "", fmt.Errorf("domain %s %w here; add it first: mailroom domain add %s", address.DomainOf(addr), ErrNotFound, address.DomainOf(addr))
	case errors.Is(err, store.ErrConflict):
		return m, "", fmt.Errorf("mailbox %s: %w (as a mailbox or an alias)", addr, ErrExists)
	case err != nil:
		return m, "", err
	}
	return m, generated, nil
}

// Mailbox returns one mailbox.
func (s *Service) Mailbox(ctx context.Context, addr string) (store.Mailbox, error) {
	a, err := address.Normalize(addr)
	if err != nil {
		return store.Mailbox{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	m, err := s.st.Mailbox(ctx, a)
	if errors.Is(err, store.ErrNotFound) {
		return m, fmt.Errorf("mailbox %s %w (mailroom mailbox list shows the mailboxes)", a, ErrNotFound)
	}
	return m, err
}

// Mailboxes lists the mailboxes of one domain, or all (domain "").
func (s *Service) Mailboxes(ctx context.Context, domain string) ([]store.Mailbox, error) {
	if domain != "" {
		d, err := address.Domain(domain)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		domain = d
	}
	return s.st.Mailboxes(ctx, domain)
}

// MailboxChange lists the settings to change; nil fields stay as they are.
type MailboxChange struct {
	DisplayName      *string
	SMTPAuth         *bool
	IMAP             *bool // may read its folders over IMAP
	SaveSent         *bool
	CopySentAs       *bool
	CopySentOnBehalf *bool
	SentRetention    *time.Duration // 0 keeps Sent Items forever
	QuotaBytes       *int64         // 0 is unlimited
	Networks         *[]string      // CIDR prefixes; empty: no restriction
	Limits           LimitChange
}

// SetMailbox changes a mailbox's settings.
func (s *Service) SetMailbox(ctx context.Context, addr string, c MailboxChange) (store.Mailbox, error) {
	m, err := s.Mailbox(ctx, addr)
	if err != nil {
		return m, err
	}
	if c.DisplayName != nil {
		m.DisplayName = strings.TrimSpace(*c.DisplayName)
	}
	if c.SMTPAuth != nil {
		if *c.SMTPAuth && m.Shared {
			return m, fmt.Errorf("%w: %s is a shared mailbox and cannot log in; grant a user mailbox send-as on it instead", ErrInvalid, m.Address)
		}
		m.SMTPAuth = *c.SMTPAuth
	}
	if c.IMAP != nil {
		m.IMAP = *c.IMAP
	}
	if c.SaveSent != nil {
		m.SaveSent = *c.SaveSent
	}
	if c.CopySentAs != nil {
		m.CopySentAs = *c.CopySentAs
	}
	if c.CopySentOnBehalf != nil {
		m.CopySentOnBehalf = *c.CopySentOnBehalf
	}
	if c.SentRetention != nil {
		if *c.SentRetention < 0 {
			return m, fmt.Errorf("%w: sent retention must not be negative", ErrInvalid)
		}
		m.SentRetention = *c.SentRetention
	}
	if c.QuotaBytes != nil {
		if *c.QuotaBytes < 0 {
			return m, fmt.Errorf("%w: quota must not be negative", ErrInvalid)
		}
		m.QuotaBytes = *c.QuotaBytes
	}
	if c.Networks != nil {
		if m.Networks, err = ParseNetworks(*c.Networks); err != nil {
			return m, err
		}
	}
	if err := c.Limits.apply(&m.Limits); err != nil {
		return m, err
	}
	return m, s.st.UpdateMailbox(ctx, m)
}

// SetPassword sets a mailbox's password; empty means generate one, which
// is returned (else "").
func (s *Service) SetPassword(ctx context.Context, addr, password string) (string, error) {
	m, err := s.Mailbox(ctx, addr)
	if err != nil {
		return "", err
	}
	if m.Shared {
		return "", fmt.Errorf("%w: %s is a shared mailbox and has no password", ErrInvalid, m.Address)
	}
	generated := ""
	if password == "" {
		password = directory.GeneratePassword()
		generated = password
	}
	if m.PasswordHash, err = s.hash(password); err != nil {
		return "", err
	}
	return generated, s.st.UpdateMailbox(ctx, m)
}

// Usage is the storage a mailbox's folders take, in bytes.
func (s *Service) Usage(ctx context.Context, addr string) (int64, error) {
	m, err := s.Mailbox(ctx, addr)
	if err != nil {
		return 0, err
	}
	return s.st.MailboxUsage(ctx, m.ID)
}

// RemoveMailbox removes a mailbox and its folders.
func (s *Service) RemoveMailbox(ctx context.Context, addr string) error {
	a, err := address.Normalize(addr)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := s.st.DeleteMailbox(ctx, a); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("mailbox %s %w", a, ErrNotFound)
	} else if err != nil {
		return err
	}
	return nil
}

func (s *Service) hash(password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", fmt.Errorf("%w: password shorter than %d characters", ErrInvalid, MinPasswordLen)
	}
	if strings.ContainsAny(password, "\x00\r\n") {
		return "", fmt.Errorf("%w: password contains a NUL or line break", ErrInvalid)
	}
	return directory.HashPassword(password, s.Params)
}
