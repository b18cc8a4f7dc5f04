package submission

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"mailroom/internal/policy"
	"mailroom/internal/store"
	"mailroom/internal/trace"
)

// This file makes TLS handshakes visible. go-smtp runs the handshake
// itself (implicit TLS in Server.handleConn, STARTTLS in
// Conn.handleStartTLS) and keeps its error to itself, so mailroom watches
// from both sides of it without patching go-smtp:
//
//   - tls.Config.GetConfigForClient sees the ClientHello (versions, cipher
//     suites, SNI) and the connection it came on, the tracked connection;
//     it picks that client's settings (legacy TLS, client certificates) and
//     records what was offered;
//   - VerifyConnection, which crypto/tls calls in every handshake (full or
//     resumed, any version) once the server has checked what it can, marks
//     it verified: in TLS 1.3 that is before the client's Finished, so the
//     client may still refuse the certificate after it;
//   - the tracked connection, beneath TLS, sees a handshake that never
//     completed: go-smtp writing its plaintext "550 Handshake error" after
//     a failed STARTTLS, or an implicit-TLS connection closing before its
//     *tls.Conn (which tlsListener made) completed the handshake; and it
//     reads the client's plaintext alert, if any.
//
// A failure is then traced once (trace.KindTLS, status tls_failed), counted
// (mailroom_submission_tls_failures_total) and logged, with a reason that
// names the fix.

// Reason tokens of a failed handshake, in the trace and the metric.
const (
	reasonTLSVersion     = "tls_version"     // the client offered only versions below the minimum
	reasonTLSCipher      = "tls_cipher"      // no cipher suite (for mailroom's certificate) in common
	reasonTLSCertificate = "tls_certificate" // the client refused mailroom's certificate
	reasonTLSTimeout     = "tls_timeout"     // the handshake did not complete within command_timeout
	reasonNotTLS         = "not_tls"         // plain text where a ClientHello was due (implicit TLS)
	reasonTLSHandshake   = "tls_handshake"   // any other: the client ended the handshake
)

// Phases of a tracked connection's TLS handshake.
const (
	hsNone     int32 = iota // plaintext, no handshake under way
	hsAwaiting              // implicit TLS: the ClientHello is due
	hsHello                 // ClientHello seen, handshake under way
	hsVerified              // VerifyConnection ran: complete but for the client's Finished (TLS 1.3)
	hsDone                  // completed: a session began under TLS
	hsFailed                // failed, and traced
)

// TLS record content types (RFC 8446 §5.1): every record, and so every
// write crypto/tls makes, starts with one.
const (
	recordChangeCipherSpec = 0x14
	recordAlert            = 0x15
	recordHandshake        = 0x16
	recordHeartbeat        = 0x18
)

// tlsWatch is what a tracked connection knows of its TLS handshake.
type tlsWatch struct {
	phase atomic.Int32

	mu        sync.Mutex
	hello     *helloInfo // nil until the ClientHello arrives
	predicted string     // the reason the hello foretold, "" when it looked fine
	cipherErr string     // crypto/tls's word on the certificate and suites, with tls_cipher
	legacy    string     // the connector whose legacy TLS applied, if any
	first     int        // the first octet read while the ClientHello was due; -1 none
	alert     int        // description of a plaintext alert from the client; -1 none
	timedOut  bool
}

// helloInfo is what a ClientHello offered.
type helloInfo struct {
	versions []uint16
	suites   []uint16
	sni      string
}

// await arms the watch of an implicit-TLS connection: the ClientHello is
// due at once.
func (w *tlsWatch) await() {
	w.mu.Lock()
	w.first, w.alert = -1, -1
	w.mu.Unlock()
	w.phase.Store(hsAwaiting)
}

// begin records a ClientHello and what it foretells.
func (w *tlsWatch) begin(h helloInfo, legacy, predicted, cipherErr string) {
	w.mu.Lock()
	w.hello, w.legacy, w.predicted, w.cipherErr = &h, legacy, predicted, cipherErr
	w.alert, w.timedOut = -1, false
	if w.first < 0 {
		w.first = recordHandshake
	}
	w.mu.Unlock()
	w.phase.Store(hsHello)
}

// pending reports whether a handshake is due or under way.
func (w *tlsWatch) pending() bool {
	p := w.phase.Load()
	return p == hsAwaiting || p == hsHello || p == hsVerified
}

// read notes what the client sent while the handshake is pending: its
// first octet, a plaintext alert (a TLS 1.2 client refusing the
// certificate says which alert; TLS 1.3 encrypts it), a timeout.
func (w *tlsWatch) read(p []byte, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(p) > 0 && w.first < 0 {
		w.first = int(p[0])
	}
	if len(p) >= 7 && p[0] == recordAlert && p[3] == 0 && p[4] == 2 {
		w.alert = int(p[6])
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		w.timedOut = true
	}
}

// TLSConfig returns base as the submission listeners use it: for each
// client, during its handshake, TLS 1.0 and 1.1 are allowed when a
// legacy-TLS connector covers its address (policy.LegacyTLS), a client
// certificate is asked for when some connector admits one, and the
// tracked connection learns what the client offered and whether the
// handshake completed, so that a failure is traced.
func (b *Backend) TLSConfig(base *tls.Config) *tls.Config {
	cfg := base.Clone()
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		return b.configForClient(base, h), nil
	}
	return cfg
}

// configForClient is base adjusted for the client that sent h.
func (b *Backend) configForClient(base *tls.Config, h *tls.ClientHelloInfo) *tls.Config {
	cfg := base.Clone()
	cs := b.connectors()
	legacy := policy.LegacyTLS(cs, addrOf(h.Conn.RemoteAddr()))
	if legacy != "" {
		cfg.MinVersion = tls.VersionTLS10
		cfg.CipherSuites = legacyCipherSuites()
	}
	if slices.ContainsFunc(cs, func(c policy.Connector) bool { return len(c.Fingerprints) > 0 }) {
		// Asked for, not required, and not verified against a CA: a
		// connector pins the certificate's fingerprint, and a device's
		// certificate is often self-signed.
		cfg.ClientAuth = tls.RequestClientCert
	}
	tc, ok := h.Conn.(*trackedConn)
	if !ok || tc.b == nil {
		return cfg
	}
	reason, cipherErr := predictTLS(h, cfg, legacy != "")
	tc.tlsw.begin(helloInfo{versions: slices.Clone(h.SupportedVersions), suites: slices.Clone(h.CipherSuites), sni: trace.Clip(h.ServerName, 255)}, legacy, reason, cipherErr)
	cfg.VerifyConnection = func(tls.ConnectionState) error {
		tc.tlsw.phase.CompareAndSwap(hsHello, hsVerified)
		return nil
	}
	return cfg
}

// connectors are the directory's connectors now: the devices that may
// submit without AUTH, and where TLS 1.0/1.1 is allowed.
func (b *Backend) connectors() []policy.Connector {
	if b.o.Directory == nil {
		return nil
	}
	return b.o.Directory.Snapshot().Connectors()
}

// legacyCipherSuites are the TLS 1.0–1.2 cipher suites a legacy-TLS
// connector's clients may choose from (TLS 1.3's are fixed): Go's default
// set (ECDHE with AES-GCM or ChaCha20-Poly1305, usable with TLS 1.2 only;
// ECDHE with AES-CBC and HMAC-SHA1, the ones TLS 1.0 and 1.1 can use)
// and the RSA key exchange AES-CBC suites that Go leaves out by default
// (GODEBUG tlsrsakex) but which many printers offer alone. No 3DES, RC4
// or CBC-SHA256: no device needs them that could not use the others.
// Which of them can be chosen depends on the certificate: ECDSA (the
// self-signed default) allows only ECDHE_ECDSA; an RSA certificate allows
// ECDHE_RSA and RSA.
func legacyCipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	}
}

// predictTLS says from a ClientHello whether the handshake cannot
// succeed under cfg, and why: no version in common, or no cipher suite
// that mailroom's certificate can serve (crypto/tls's own check, whose
// words come back as cipherErr).
func predictTLS(h *tls.ClientHelloInfo, cfg *tls.Config, legacy bool) (reason, cipherErr string) {
	minV := cfg.MinVersion
	if minV == 0 {
		minV = tls.VersionTLS12
	}
	if len(h.SupportedVersions) == 0 || slices.Max(h.SupportedVersions) < minV {
		return reasonTLSVersion, ""
	}
	if legacy || len(cfg.Certificates) == 0 {
		// SupportsCertificate judges by the listener's own settings
		// (TLS 1.2 minimum, default suites), not the legacy ones.
		return "", ""
	}
	var err error
	for i := range cfg.Certificates {
		if err = h.SupportsCertificate(&cfg.Certificates[i]); err == nil {
			return "", ""
		}
	}
	return reasonTLSCipher, err.Error()
}

// tlsListener is tls.NewListener that also gives each tracked connection
// its *tls.Conn, so that at close it can tell whether the handshake
// completed.
type tlsListener struct {
	net.Listener
	cfg *tls.Config
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	t := tls.Server(c, l.cfg)
	if tc, ok := c.(*trackedConn); ok {
		tc.tlsConn.Store(t)
	}
	return t, nil
}

// closedDuringHandshake reports, once the connection is closed, whether
// a TLS handshake was due or under way and did not complete.
func (c *trackedConn) closedDuringHandshake() bool {
	if c.b == nil || !c.tlsw.pending() {
		return false
	}
	if t := c.tlsConn.Load(); t != nil {
		// Implicit TLS. The raw connection is closed, so a handshake
		// still running ends now and ConnectionState does not wait.
		return !t.ConnectionState().HandshakeComplete
	}
	// STARTTLS: a failure that reached go-smtp was caught by Write; one
	// that did not is a client gone before the server's checks.
	return c.tlsw.phase.Load() == hsHello
}

// tlsFailed traces a handshake that did not complete, once.
func (c *trackedConn) tlsFailed() {
	p := c.tlsw.phase.Load()
	if (p != hsAwaiting && p != hsHello && p != hsVerified) || !c.tlsw.phase.CompareAndSwap(p, hsFailed) {
		return
	}
	w := &c.tlsw
	w.mu.Lock()
	reason, detail := tlsFailure(w, addrOf(c.RemoteAddr()), c.b.connectors())
	w.mu.Unlock()
	if reason == "" {
		return // a connection that sent nothing and closed: a port probe
	}
	metricTLSFailures.WithLabelValues(reason).Inc()
	c.b.log.Info("tls handshake failed", "conn", c.id, "remote", c.RemoteAddr().String(), "reason", reason, "detail", detail)
	c.b.o.Trace.Record(store.TraceEvent{Kind: trace.KindTLS, Status: trace.StatusTLSFailed, Session: c.id, At: c.b.o.Now(), Attempt: true,
		Remote: c.RemoteAddr().String(), Reason: reason, Detail: detail})
}

// tlsFailure is the reason of a failed handshake and what the trace says
// of it: what the client offered, and the fix. It returns no reason for
// an implicit-TLS connection that closed without sending an octet.
func tlsFailure(w *tlsWatch, remote netip.Addr, cs []policy.Connector) (reason, detail string) {
	var offered string
	if h := w.hello; h != nil {
		offered = describeHello(h)
	}
	switch {
	case w.hello == nil && w.timedOut && w.first < 0:
		return reasonTLSTimeout, "the client sent nothing on the implicit-TLS port until submission.command_timeout: it probably waits for a plain 220 greeting; set it to STARTTLS on port 587, or to SSL/TLS on port 465"
	case w.hello == nil && w.first < 0:
		return "", ""
	case w.hello == nil && w.first == recordHandshake:
		return reasonTLSHandshake, "the client's ClientHello could not be read"
	case w.hello == nil:
		return reasonNotTLS, fmt.Sprintf("the client sent plain text (first octet %#02x), not a TLS ClientHello, on the implicit-TLS port: set it to SSL/TLS for port 465, or to STARTTLS on port 587", w.first)
	case w.predicted == reasonTLSVersion:
		return reasonTLSVersion, offered + "; TLS 1.2 is the minimum. " + legacyFix(remote, cs)
	case w.predicted == reasonTLSCipher:
		return reasonTLSCipher, offered + "; none of these suites works with mailroom's certificate (" + w.cipherErr + "). " +
			"Update the device's firmware, or for an old device allow the legacy suites for its network only: " + legacyFix(remote, cs)
	case w.timedOut:
		return reasonTLSTimeout, offered + "; the handshake did not complete within submission.command_timeout"
	case isCertificateAlert(w.alert):
		return reasonTLSCertificate, offered + fmt.Sprintf("; the client refused mailroom's certificate (alert %q). ", tls.AlertError(w.alert).Error()) + certificateFix
	case w.alert >= 0:
		return reasonTLSHandshake, offered + fmt.Sprintf("; the client ended the handshake with alert %q", tls.AlertError(w.alert).Error())
	default:
		return reasonTLSHandshake, offered + "; the client ended the handshake after mailroom's certificate was sent: most often it does not trust the certificate. " + certificateFix
	}
}

// certificateFix is what to do when a client does not trust mailroom's
// certificate.
const certificateFix = "Use a certificate from a CA the device trusts (tls.cert_file, tls.key_file), or import mailroom's certificate into the device"

// legacyFix names the command that allows TLS 1.0/1.1 for remote: set on
// the connector that covers it already, or a new connector for its
// address alone.
func legacyFix(remote netip.Addr, cs []policy.Connector) string {
	if m := policy.MatchConnector(cs, remote, ""); m.Connector != nil {
		if m.Connector.LegacyTLS {
			return fmt.Sprintf("Connector %s already allows TLS 1.0 and 1.1 for this address; update the device's firmware", m.Connector.Name)
		}
		return fmt.Sprintf("Allow TLS 1.0 and 1.1 for this device's network with: mailroom connector set %s --legacy-tls", m.Connector.Name)
	}
	return fmt.Sprintf("Allow TLS 1.0 and 1.1 for this device only with: mailroom connector add NAME --mailbox ADDRESS --networks %s --legacy-tls", hostPrefix(remote))
}

// maxSuitesShown bounds the cipher suites a trace event lists: a
// ClientHello may offer hundreds.
const maxSuitesShown = 24

// describeHello is what a ClientHello offered, for the trace.
func describeHello(h *helloInfo) string {
	var vs []string
	for _, v := range h.versions {
		if isGREASE(v) {
			continue
		}
		vs = append(vs, tls.VersionName(v))
	}
	var ss []string
	n := 0
	for _, s := range h.suites {
		if isGREASE(s) {
			continue
		}
		if n++; n <= maxSuitesShown {
			ss = append(ss, tls.CipherSuiteName(s))
		}
	}
	if n > maxSuitesShown {
		ss = append(ss, fmt.Sprintf("and %d more", n-maxSuitesShown))
	}
	sni := h.sni
	if sni == "" {
		sni = "(none)"
	}
	return fmt.Sprintf("client offered %s; cipher suites %s; SNI %s", strings.Join(vs, ", "), strings.Join(ss, ", "), sni)
}

// isGREASE reports whether v is a GREASE value (RFC 8701), which clients
// offer to keep servers tolerant and which names nothing.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// isCertificateAlert reports whether a TLS alert description says the
// peer refused a certificate (RFC 8446 §6.2): bad_certificate,
// unsupported_certificate, certificate_revoked, certificate_expired,
// certificate_unknown, unknown_ca.
func isCertificateAlert(d int) bool { return d >= 42 && d <= 46 || d == 48 }
