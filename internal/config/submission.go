package config

// validateLogins checks the [submission] keys that bound connections and
// password checks per client address and server-wide.
func (s Submission) validateLogins() error {
	for key, v := range map[string]int{
		"submission.max_connections_per_address": s.MaxConnectionsPerAddress,
		"submission.connection_rate_per_address": s.ConnectionRatePerAddress,
		"submission.max_concurrent_hashes":       s.MaxConcurrentHashes,
	} {
		if v < 0 {
			return &FieldError{key, v, "must be 0 (no cap) or positive"}
		}
	}
	if s.MaxAuthPerAddress <= 0 {
		return &FieldError{"submission.max_auth_per_address", s.MaxAuthPerAddress, "must be positive"}
	}
	if s.HashWait.Std() <= 0 {
		return &FieldError{"submission.hash_wait", s.HashWait.Std(), "must be positive"}
	}
	return nil
}
