package submission

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The submission metrics, the one package-level state STYLE §5.2 allows.
// Their names and label values are contracts, like the reply codes; the
// reason tokens are the ones each Reply carries (replies.go), as the trace
// records them.
var (
	metricSessionsActive = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "mailroom_submission_sessions_active",
		Help: "SMTP connections open now on the submission listeners (587, 465).",
	})
	metricSessions = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mailroom_submission_sessions_total",
		Help: "SMTP connections accepted on the submission listeners.",
	})
	metricAuth = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mailroom_submission_auth_total",
		Help: "AUTH attempts by result: ok, bad_credentials, smtp_auth_disabled, network_not_allowed, shared_mailbox, login_blocked, auth_busy (454 4.7.0), malformed_auth, unknown_mechanism, no_tls, local_error.",
	}, []string{"result"})
	metricConnRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mailroom_submission_connections_refused_total",
		Help: "Connections refused at connect by reason: connection_limit (submission.max_connections_per_address), connection_rate (submission.connection_rate_per_address).",
	}, []string{"reason"})
	metricTLSFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mailroom_submission_tls_failures_total",
		Help: "TLS handshakes (implicit TLS, or after STARTTLS) that did not complete, by reason: tls_version (only versions below the minimum offered), " +
			"tls_cipher (no cipher suite for the certificate), tls_certificate (the client refused the certificate), tls_timeout, not_tls (plain text on the implicit-TLS port), " +
			"tls_handshake (any other). The trace records each as a tls_failed event with what the client offered.",
	}, []string{"reason"})
	metricAccepted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "mailroom_submission_accepted_total",
		Help: "Messages accepted (250 after DATA).",
	})
	metricRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mailroom_submission_refused_total",
		Help: "Refusing replies to EHLO, MAIL, RCPT and DATA by reason: bad_helo, not_authenticated, send_as_denied, sender_mismatch, null_sender, " +
			"message_too_large, header_too_large, bad_sender_syntax, bad_recipient_syntax, no_such_mailbox, bad_sequence, malformed_message, " +
			"over_quota, concurrency_limit, rate_limit, recipients_per_message, daily_recipient_limit, local_error, " +
			"data_timeout, transfer_interrupted, shutting_down. The trace records the same tokens, carried by each reply (replies.go).",
	}, []string{"reason"})
	metricAcceptSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "mailroom_submission_acceptance_duration_seconds",
		Help:    "Time from the end of DATA to the 250 reply: fsync of the body and the store transaction.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
)

// Collectors returns the package's metrics for the daemon to register.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{metricSessionsActive, metricSessions, metricConnRefused, metricAuth, metricTLSFailures, metricAccepted, metricRefused, metricAcceptSeconds}
}
