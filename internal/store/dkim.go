package store

import (
	"context"
	"time"
)

// DKIM key algorithms.
const (
	DKIMEd25519 = "ed25519"
	DKIMRSA     = "rsa"
)

// DKIMKey is one DKIM signing key of a served domain. Keys live in the
// store, not in data_dir, so that every node of a cluster signs with the
// same keys and a backup of the store carries them.
type DKIMKey struct {
	ID         int64
	Domain     string
	Selector   string
	Algorithm  string // DKIMEd25519 or DKIMRSA
	PrivateKey []byte // PKCS #8, DER
	CreatedAt  time.Time
}

// DKIMKeys is access to the domains' DKIM keys.
type DKIMKeys interface {
	// AddDKIMKeys stores keys, all or none: store.ErrNotFound when a key's
	// domain does not exist, store.ErrConflict when a domain already has a
	// key with a selector. IDs and CreatedAt are set on the returned keys.
	AddDKIMKeys(ctx context.Context, keys []DKIMKey) ([]DKIMKey, error)
	// DKIMKeysOf returns a domain's keys, oldest first; none for an unknown
	// domain. Removing a domain removes its keys.
	DKIMKeysOf(ctx context.Context, domain string) ([]DKIMKey, error)
}
