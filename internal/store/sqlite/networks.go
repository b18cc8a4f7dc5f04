package sqlite

import (
	"encoding/json"
	"fmt"
)

// Networks lists (of domains, mailboxes and app passwords) are stored as a
// JSON array of strings in a TEXT column, "[]" when empty. The store keeps
// the strings as given; the caller validates them as CIDR prefixes.

// encodeNetworks returns the stored form of networks.
func encodeNetworks(networks []string) (string, error) {
	if len(networks) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(networks)
	if err != nil {
		return "", fmt.Errorf("encode networks: %w", err)
	}
	return string(b), nil
}

// decodeNetworks parses the stored form; an empty list is nil.
func decodeNetworks(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var networks []string
	if err := json.Unmarshal([]byte(s), &networks); err != nil {
		return nil, fmt.Errorf("decode networks %q: %w", s, err)
	}
	return normalNetworks(networks), nil
}

// normalNetworks returns networks as a read returns them: nil when empty.
func normalNetworks(networks []string) []string {
	if len(networks) == 0 {
		return nil
	}
	return networks
}
