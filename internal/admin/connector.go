package admin

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"mailroom/internal/policy"
	"mailroom/internal/store"
)

// Bounds of a connector's lists: a connector names a few device networks
// or certificates, not a routing table.
const (
	maxConnectorNetworks     = 64
	maxConnectorFingerprints = 32
)

// connectorName is a connector's name: short, without spaces, as it
// appears in the trace and in commands.
var connectorName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ConnectorSpec is a connector as an administrator gives it.
type ConnectorSpec struct {
	Name         string
	Mailbox      string
	Networks     []string // CIDR prefixes or addresses
	Fingerprints []string // SHA-256 of the client certificate, hex, any case, colons allowed
	LegacyTLS    bool
}

// ConnectorChange changes a connector; nil fields stay.
type ConnectorChange struct {
	Mailbox      *string
	Networks     *[]string
	Fingerprints *[]string
	LegacyTLS    *bool
}

// AddConnector lets the devices of spec's networks, or with its client
// certificates, submit without AUTH as spec.Mailbox; the running server
// admits them within a second.
func (s *Service) AddConnector(ctx context.Context, spec ConnectorSpec) (store.Connector, error) {
	c, err := s.connector(ctx, spec)
	if err != nil {
		return store.Connector{}, err
	}
	c, err = s.st.AddConnector(ctx, c)
	switch {
	case errors.Is(err, store.ErrConflict):
		return c, fmt.Errorf("connector %s: %w; change it with mailroom connector set, or pick another name", spec.Name, ErrExists)
	case errors.Is(err, store.ErrNotFound):
		return c, fmt.Errorf("mailbox %s %w", spec.Mailbox, ErrNotFound)
	}
	return c, err
}

// Connectors lists the connectors by name.
func (s *Service) Connectors(ctx context.Context) ([]store.Connector, error) {
	return s.st.Connectors(ctx)
}

// SetConnector changes the connector named name.
func (s *Service) SetConnector(ctx context.Context, name string, ch ConnectorChange) (store.Connector, error) {
	cs, err := s.st.Connectors(ctx)
	if err != nil {
		return store.Connector{}, err
	}
	var spec *ConnectorSpec
	for _, c := range cs {
		if c.Name == name {
			spec = &ConnectorSpec{Name: c.Name, Mailbox: c.Mailbox, Networks: c.Networks, Fingerprints: c.Fingerprints, LegacyTLS: c.LegacyTLS}
		}
	}
	if spec == nil {
		return store.Connector{}, fmt.Errorf("connector %s %w (mailroom connector list shows the connectors)", name, ErrNotFound)
	}
	if ch.Mailbox != nil {
		spec.Mailbox = *ch.Mailbox
	}
	if ch.Networks != nil {
		spec.Networks = *ch.Networks
	}
	if ch.Fingerprints != nil {
		spec.Fingerprints = *ch.Fingerprints
	}
	if ch.LegacyTLS != nil {
		spec.LegacyTLS = *ch.LegacyTLS
	}
	c, err := s.connector(ctx, *spec)
	if err != nil {
		return store.Connector{}, err
	}
	if err := s.st.UpdateConnector(ctx, c); errors.Is(err, store.ErrNotFound) {
		return c, fmt.Errorf("connector %s or mailbox %s %w", name, c.Mailbox, ErrNotFound)
	} else if err != nil {
		return c, err
	}
	return c, nil
}

// RemoveConnector deletes a connector: its devices must log in again.
func (s *Service) RemoveConnector(ctx context.Context, name string) error {
	err := s.st.RemoveConnector(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("connector %s %w (mailroom connector list shows the connectors)", name, ErrNotFound)
	}
	return err
}

// connector validates spec into the connector to store.
func (s *Service) connector(ctx context.Context, spec ConnectorSpec) (store.Connector, error) {
	if !connectorName.MatchString(spec.Name) {
		return store.Connector{}, fmt.Errorf("%w: connector name %q: want up to 64 letters, digits, '.', '_' or '-', such as printers-floor2", ErrInvalid, spec.Name)
	}
	m, err := s.Mailbox(ctx, spec.Mailbox)
	if err != nil {
		return store.Connector{}, err
	}
	nets, err := ParseNetworks(spec.Networks)
	if err != nil {
		return store.Connector{}, err
	}
	if len(nets) > maxConnectorNetworks {
		return store.Connector{}, fmt.Errorf("%w: %d networks: at most %d", ErrInvalid, len(nets), maxConnectorNetworks)
	}
	for _, n := range nets {
		if p := netip.MustParsePrefix(n); p.Bits() == 0 {
			return store.Connector{}, fmt.Errorf("%w: network %s admits every address: a connector must never be an open relay", ErrInvalid, n)
		}
	}
	var fps []string
	for _, fp := range spec.Fingerprints {
		if strings.TrimSpace(fp) == "" {
			continue
		}
		n := policy.NormalizeFingerprint(fp)
		if b, err := hex.DecodeString(n); err != nil || len(b) != 32 {
			return store.Connector{}, fmt.Errorf("%w: certificate fingerprint %q: want its SHA-256 in hex (openssl x509 -noout -fingerprint -sha256 -in device.pem)", ErrInvalid, clipValue(fp))
		}
		fps = append(fps, n)
	}
	if len(fps) > maxConnectorFingerprints {
		return store.Connector{}, fmt.Errorf("%w: %d fingerprints: at most %d", ErrInvalid, len(fps), maxConnectorFingerprints)
	}
	if len(nets) == 0 && len(fps) == 0 {
		return store.Connector{}, fmt.Errorf("%w: connector %s admits nobody: give --networks or --cert-fingerprint", ErrInvalid, spec.Name)
	}
	if spec.LegacyTLS && len(nets) == 0 {
		return store.Connector{}, fmt.Errorf("%w: --legacy-tls applies to the connector's networks (chosen before any certificate is seen), and it has none", ErrInvalid)
	}
	return store.Connector{Name: spec.Name, Mailbox: m.Address, Networks: nets, Fingerprints: fps, LegacyTLS: spec.LegacyTLS}, nil
}

// clipValue bounds a value echoed in an error.
func clipValue(v string) string {
	if len(v) > 80 {
		return v[:80] + "…"
	}
	return v
}
