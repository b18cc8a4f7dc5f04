package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
)

// Networks lists (of domains, mailboxes and app passwords) are stored as a
// JSON array of strings in a TEXT column, "[]" when empty. The store keeps
// the strings as given; the caller validates them as CIDR prefixes.

// encodeNetworks returns the stored form of networks.
func encodeNetworks(networks []string) (any, error) {
	if len(networks) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(networks)
	if err != nil {
		return "", fmt.Errorf("encode networks: %w", err)
	}
	return string(b), nil
}

// scanNetworks returns a scan destination that decodes the stored form
// into dst; an empty list is nil.
func scanNetworks(dst *[]string) sql.Scanner { return networksScanner{dst} }

type networksScanner struct{ dst *[]string }

// Scan decodes a stored networks list.
func (n networksScanner) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("decode networks: unexpected %T", src)
	}
	*n.dst = nil
	if s == "" || s == "[]" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), n.dst); err != nil {
		return fmt.Errorf("decode networks %q: %w", s, err)
	}
	if len(*n.dst) == 0 {
		*n.dst = nil
	}
	return nil
}
