package store

import (
	"context"
	"time"
)

// Connector lets a device submit without AUTH as one mailbox: a client
// whose address is in Networks, or who presents a TLS client certificate
// whose SHA-256 fingerprint is in Fingerprints (DESIGN "connector").
type Connector struct {
	ID      int64
	Name    string // unique
	Mailbox string // the mailbox's address
	// Networks are CIDR prefixes, normalized ("10.1.2.0/24").
	Networks []string
	// Fingerprints are lowercase hex SHA-256 digests of DER certificates.
	Fingerprints []string
	// LegacyTLS lets clients in Networks negotiate TLS 1.0 and 1.1.
	LegacyTLS bool
	CreatedAt time.Time
}

// Connectors stores connectors. Every write is a directory change (the
// directory version moves), so running servers load it within a second.
type Connectors interface {
	// AddConnector stores c (ID and CreatedAt are set); ErrNotFound if its
	// mailbox does not exist, ErrConflict if the name is taken.
	AddConnector(ctx context.Context, c Connector) (Connector, error)
	// UpdateConnector writes Mailbox, Networks, Fingerprints and LegacyTLS
	// of the connector named c.Name; ErrNotFound if it or the mailbox does
	// not exist.
	UpdateConnector(ctx context.Context, c Connector) error
	// RemoveConnector deletes the connector named name; ErrNotFound if absent.
	RemoveConnector(ctx context.Context, name string) error
	// Connectors lists all connectors by name. Removing a mailbox removes
	// its connectors.
	Connectors(ctx context.Context) ([]Connector, error)
}
