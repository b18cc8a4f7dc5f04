package config

import (
	"fmt"
	"net"
	"time"
)

// IMAP configures the IMAP listeners (RFC 9051, IMAP4rev1 clients too),
// over which people read the Inbox, Sent Items and the folders they make.
// Logins are the submission's: the same passwords and app passwords, the
// same login guard and hash limits ([submission] max_auth_per_address,
// max_concurrent_hashes, hash_wait; [limits] login_*), and PROXY headers
// from submission.proxy_from. APPEND takes messages of at most
// submission.max_message_bytes.
type IMAP struct {
	// Listen is the STARTTLS IMAP address (e.g. ":143"); LOGIN and
	// AUTHENTICATE are refused before STARTTLS (LOGINDISABLED). "" turns
	// it off. Default "".
	Listen string `toml:"listen"`
	// ListenTLS is the implicit-TLS IMAP address (e.g. ":993"); "" turns
	// it off. Default "".
	ListenTLS string `toml:"listen_tls"`
	// MaxConnectionsPerAddress caps the IMAP connections open at once
	// from one client address (IPv6: its /64); one more is closed at
	// connect (a mail client keeps a few per account: Dovecot's
	// mail_max_userip_connections is 10 per user). 0 turns the cap off.
	// Default 50.
	MaxConnectionsPerAddress int `toml:"max_connections_per_address"`
	// MaxIdle caps the sessions in IDLE at once, server-wide; one more is
	// answered NO and the client polls instead. Default 10000.
	MaxIdle int `toml:"max_idle"`
	// IdleKeepalive is how often a session in IDLE sends "* OK Still
	// here", selected or not, so NAT and firewalls keep the connection
	// (Dovecot's imap_idle_notify_interval). Default "2m"; at most "29m",
	// under the 30 minutes after which RFC 9051 lets a server log out.
	IdleKeepalive Duration `toml:"idle_keepalive"`
	// LoginTimeout is how long a connection may stay unauthenticated
	// before it is closed. Default "60s".
	LoginTimeout Duration `toml:"login_timeout"`
	// PreAuthBytes caps what a client may send before it has logged in
	// (its commands and TLS handshake); past it the connection is closed.
	// Default 65536.
	PreAuthBytes int64 `toml:"preauth_bytes"`
}

// DefaultIMAP is the [imap] section's default: off.
func DefaultIMAP() IMAP {
	return IMAP{MaxConnectionsPerAddress: 50, MaxIdle: 10000, IdleKeepalive: Duration(2 * time.Minute), LoginTimeout: Duration(time.Minute), PreAuthBytes: 64 << 10}
}

func (m IMAP) validate() error {
	for key, addr := range map[string]string{"imap.listen": m.Listen, "imap.listen_tls": m.ListenTLS} {
		if addr == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return &FieldError{key, fmt.Sprintf("%q", addr), "want host:port, e.g. \":993\""}
		}
	}
	if m.MaxConnectionsPerAddress < 0 {
		return &FieldError{"imap.max_connections_per_address", m.MaxConnectionsPerAddress, "must be 0 (no cap) or positive"}
	}
	if m.MaxIdle <= 0 {
		return &FieldError{"imap.max_idle", m.MaxIdle, "must be positive"}
	}
	if k := m.IdleKeepalive.Std(); k <= 0 || k > 29*time.Minute {
		return &FieldError{"imap.idle_keepalive", k, "must be positive and at most 29m"}
	}
	if m.LoginTimeout.Std() <= 0 {
		return &FieldError{"imap.login_timeout", m.LoginTimeout.Std(), "must be positive"}
	}
	if m.PreAuthBytes < 1024 {
		return &FieldError{"imap.preauth_bytes", m.PreAuthBytes, "must be at least 1024"}
	}
	return nil
}
