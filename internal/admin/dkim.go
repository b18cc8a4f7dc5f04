package admin

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"mailroom/internal/address"
	"mailroom/internal/message"
	"mailroom/internal/store"
)

// DefaultSelector is the selector base of `mailroom domain dkim`.
const DefaultSelector = "mailroom"

// selectorRE is a DNS label short enough for the algorithm suffix.
var selectorRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

// DKIMRecord is one DKIM key of a domain and the TXT record publishing it.
type DKIMRecord struct {
	Selector  string
	Algorithm string
	Name      string // "<selector>._domainkey.<domain>"
	Value     string // "v=DKIM1; k=…; p=…"
	CreatedAt time.Time
}

// DKIMSelectors returns the two selectors made from base: one per
// algorithm, since a selector names one key record.
func DKIMSelectors(base string) (ed, rsa string) { return base + "-ed25519", base + "-rsa" }

// AddDKIM gives a domain an Ed25519 and an RSA-2048 key under the
// selectors DKIMSelectors(base), unless it has them already, and returns
// the records of those two keys. created says whether keys were made.
// Outgoing mail whose From: is in the domain is signed with the newest key
// of each algorithm from then on.
func (s *Service) AddDKIM(ctx context.Context, domain, base string) ([]DKIMRecord, bool, error) {
	d, err := address.Domain(domain)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if base == "" {
		base = DefaultSelector
	}
	if !selectorRE.MatchString(base) {
		return nil, false, fmt.Errorf("%w: selector %q: use lower-case letters, digits and '-', at most 40", ErrInvalid, base)
	}
	ed, rsa := DKIMSelectors(base)
	have, err := s.DKIMRecords(ctx, d)
	if err != nil {
		return nil, false, err
	}
	var mine []DKIMRecord
	for _, r := range have {
		if r.Selector == ed || r.Selector == rsa {
			mine = append(mine, r)
		}
	}
	if len(mine) == 2 {
		return mine, false, nil
	}
	if len(mine) == 1 {
		return nil, false, fmt.Errorf("%w: domain %s has only one of the keys %s and %s; choose another selector", ErrExists, d, ed, rsa)
	}
	var keys []store.DKIMKey
	for _, k := range []struct{ sel, alg string }{{ed, store.DKIMEd25519}, {rsa, store.DKIMRSA}} {
		der, err := message.NewDKIMKey(k.alg)
		if err != nil {
			return nil, false, err
		}
		keys = append(keys, store.DKIMKey{Domain: d, Selector: k.sel, Algorithm: k.alg, PrivateKey: der})
	}
	added, err := s.st.AddDKIMKeys(ctx, keys)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, false, fmt.Errorf("domain %s %w here; add it first: mailroom domain add %s", d, ErrNotFound, d)
	case errors.Is(err, store.ErrConflict):
		return nil, false, fmt.Errorf("%w: %v", ErrExists, err)
	case err != nil:
		return nil, false, err
	}
	out := make([]DKIMRecord, 0, len(added))
	for _, k := range added {
		r, err := record(k)
		if err != nil {
			return nil, false, err
		}
		out = append(out, r)
	}
	return out, true, nil
}

// DKIMRecords returns the records of every DKIM key of a domain, oldest
// first.
func (s *Service) DKIMRecords(ctx context.Context, domain string) ([]DKIMRecord, error) {
	d, err := address.Domain(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	keys, err := s.st.DKIMKeysOf(ctx, d)
	if err != nil {
		return nil, err
	}
	var out []DKIMRecord
	for _, k := range keys {
		r, err := record(k)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func record(k store.DKIMKey) (DKIMRecord, error) {
	v, err := message.DKIMRecord(k.PrivateKey)
	if err != nil {
		return DKIMRecord{}, fmt.Errorf("dkim key %s of %s: %w", k.Selector, k.Domain, err)
	}
	return DKIMRecord{Selector: k.Selector, Algorithm: k.Algorithm, Name: k.Selector + "._domainkey." + k.Domain, Value: v, CreatedAt: k.CreatedAt}, nil
}
