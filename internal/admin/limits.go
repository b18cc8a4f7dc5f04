package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"mailroom/internal/directory"
	"mailroom/internal/limits"
	"mailroom/internal/store"
)

// UsageFile is where a running server publishes the transactions in flight
// per mailbox, inside data_dir; UsageFresh is how old it may be to count
// as live.
const (
	UsageFile  = "run/usage.json"
	UsageFresh = 5 * time.Second
)

// LiveUsage is the content of UsageFile.
type LiveUsage struct {
	At       time.Time     `json:"at"`
	InFlight map[int64]int `json:"in_flight"`
}

// ParseNetworks validates CIDR prefixes ("10.0.0.0/8", "2001:db8::/32";
// a bare address means just it) and returns them in canonical form.
func ParseNetworks(list []string) ([]string, error) {
	var out []string
	for _, n := range list {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if !strings.Contains(n, "/") {
			a, err := netip.ParseAddr(n)
			if err != nil {
				return nil, fmt.Errorf("%w: network %q: want CIDR such as 192.0.2.0/24 or an address", ErrInvalid, n)
			}
			n = netip.PrefixFrom(a, a.BitLen()).String()
		}
		p, err := netip.ParsePrefix(n)
		if err != nil {
			return nil, fmt.Errorf("%w: network %q: want CIDR such as 192.0.2.0/24", ErrInvalid, n)
		}
		out = append(out, p.Masked().String())
	}
	return out, nil
}

// LimitChange sets limit overrides; nil fields stay, 0 inherits.
type LimitChange struct {
	Concurrent, MessagesPerMinute, RecipientsPerMessage, RecipientsPerDay *int
}

func (c LimitChange) apply(l *store.Limits) error {
	for _, f := range []struct {
		v   *int
		dst *int
	}{{c.Concurrent, &l.Concurrent}, {c.MessagesPerMinute, &l.MessagesPerMinute}, {c.RecipientsPerMessage, &l.RecipientsPerMessage}, {c.RecipientsPerDay, &l.RecipientsPerDay}} {
		if f.v == nil {
			continue
		}
		if *f.v < 0 {
			return fmt.Errorf("%w: limits must be 0 (inherit) or positive", ErrInvalid)
		}
		*f.dst = *f.v
	}
	return nil
}

// LimitStatus is a mailbox's effective limits and its current usage.
type LimitStatus struct {
	Effective store.Limits
	Usage     limits.Usage
	// Live says whether InFlight comes from a running server.
	Live bool
	// Limits are the effective limits with the level each comes from.
	Limits []EffectiveLimit
}

// LimitStatus computes the effective limits of a mailbox (server defaults
// from s.Limits, then domain, then mailbox) and its usage: messages this
// minute and recipients in 24 hours from the submission log, transactions
// in flight from the running server's usage file under s.DataDir, or, on a
// store shared by several nodes (store.Leases), from its leases.
func (s *Service) LimitStatus(ctx context.Context, addr string, now time.Time) (LimitStatus, error) {
	m, err := s.Mailbox(ctx, addr)
	if err != nil {
		return LimitStatus{}, err
	}
	d, err := s.Domain(ctx, m.Domain)
	if err != nil {
		return LimitStatus{}, err
	}
	st := LimitStatus{Effective: limits.Effective(s.Limits, d.Limits, m.Limits), Limits: EffectiveLimits(s.Limits, d.Limits, m.Limits)}
	recs, err := s.st.SubmissionLog(ctx, now.Add(-24*time.Hour))
	if err != nil {
		return st, err
	}
	for _, r := range recs {
		if r.MailboxID != m.ID {
			continue
		}
		st.Usage.RecipientsLast24 += r.Recipients
		if r.At.After(now.Add(-time.Minute)) {
			st.Usage.MessagesLastMin += max(r.Messages, 1)
		}
	}
	if ls, ok := s.st.(store.Leases); ok {
		// Several nodes: the leases in the store are every node's
		// transactions in flight.
		n, err := ls.LiveLeases(ctx, m.ID)
		if err != nil {
			return st, err
		}
		st.Live, st.Usage.InFlight = true, n
		return st, nil
	}
	b, err := os.ReadFile(filepath.Join(s.DataDir, UsageFile))
	if err == nil {
		var lu LiveUsage
		if json.Unmarshal(b, &lu) == nil && now.Sub(lu.At) < UsageFresh {
			st.Live = true
			st.Usage.InFlight = lu.InFlight[m.ID]
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("read live usage: %w", err)
	}
	return st, nil
}

// NewAppPassword describes an app password to create.
type NewAppPassword struct {
	Mailbox  string
	Label    string
	Networks []string
}

// AddAppPassword creates an app password and returns it with the secret,
// which is shown once and never stored.
func (s *Service) AddAppPassword(ctx context.Context, n NewAppPassword) (store.AppPassword, string, error) {
	m, err := s.Mailbox(ctx, n.Mailbox)
	if err != nil {
		return store.AppPassword{}, "", err
	}
	if m.Shared {
		return store.AppPassword{}, "", fmt.Errorf("%w: %s is a shared mailbox and cannot log in", ErrInvalid, m.Address)
	}
	label := strings.TrimSpace(n.Label)
	if label == "" || strings.ContainsAny(label, " \t\r\n") || len(label) > 64 {
		return store.AppPassword{}, "", fmt.Errorf("%w: label %q: want a short name without spaces, such as printer-3f", ErrInvalid, n.Label)
	}
	nets, err := ParseNetworks(n.Networks)
	if err != nil {
		return store.AppPassword{}, "", err
	}
	secret := directory.NewAppPassword()
	hash, err := directory.HashAppPassword(secret, s.Params)
	if err != nil {
		return store.AppPassword{}, "", err
	}
	ap, err := s.st.AddAppPassword(ctx, store.AppPassword{Mailbox: m.Address, Label: label, PasswordHash: hash, Networks: nets})
	if errors.Is(err, store.ErrConflict) {
		return ap, "", fmt.Errorf("%s already has an app password labelled %s: %w; revoke it first or pick another label", m.Address, label, ErrExists)
	}
	return ap, secret, err
}

// AppPasswords lists the app passwords of a mailbox, or of all (mailbox "").
func (s *Service) AppPasswords(ctx context.Context, mailbox string) ([]store.AppPassword, error) {
	if mailbox != "" {
		m, err := s.Mailbox(ctx, mailbox)
		if err != nil {
			return nil, err
		}
		mailbox = m.Address
	}
	return s.st.AppPasswords(ctx, mailbox)
}

// SetAppPasswordNetworks changes the networks an app password may be used
// from (none: wherever its mailbox may) without reissuing it: the device
// keeps its password. It returns the app password as changed; a running
// server applies it within a second.
func (s *Service) SetAppPasswordNetworks(ctx context.Context, mailbox, label string, networks []string) (store.AppPassword, error) {
	m, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return store.AppPassword{}, err
	}
	nets, err := ParseNetworks(networks)
	if err != nil {
		return store.AppPassword{}, err
	}
	if err := s.st.SetAppPasswordNetworks(ctx, m.Address, label, nets); errors.Is(err, store.ErrNotFound) {
		return store.AppPassword{}, fmt.Errorf("%s has no app password labelled %s: %w (mailroom app-password list %s)", m.Address, label, ErrNotFound, m.Address)
	} else if err != nil {
		return store.AppPassword{}, err
	}
	aps, err := s.st.AppPasswords(ctx, m.Address)
	if err != nil {
		return store.AppPassword{}, err
	}
	for _, ap := range aps {
		if ap.Label == label {
			return ap, nil
		}
	}
	return store.AppPassword{}, fmt.Errorf("%s has no app password labelled %s: %w", m.Address, label, ErrNotFound)
}

// RevokeAppPassword deletes an app password; the running server refuses it
// within a second.
func (s *Service) RevokeAppPassword(ctx context.Context, mailbox, label string) error {
	m, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return err
	}
	if err := s.st.RevokeAppPassword(ctx, m.Address, label); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s has no app password labelled %s: %w (mailroom app-password list %s)", m.Address, label, ErrNotFound, m.Address)
	} else if err != nil {
		return err
	}
	return nil
}
