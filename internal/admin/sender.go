package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"mailroom/internal/address"
	"mailroom/internal/store"
)

// AddAlias gives a mailbox a further address, in a served domain.
func (s *Service) AddAlias(ctx context.Context, mailbox, alias string) (string, error) {
	m, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return "", err
	}
	a, err := address.Normalize(alias)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := s.checkSeparator("alias", a); err != nil {
		return "", err
	}
	if _, err := s.Domain(ctx, address.DomainOf(a)); err != nil {
		return "", fmt.Errorf("alias %s: domain %s is not served here; add it first: mailroom domain add %s", a, address.DomainOf(a), address.DomainOf(a))
	}
	err = s.st.AddAlias(ctx, m.Address, a)
	if errors.Is(err, store.ErrConflict) {
		return "", fmt.Errorf("%s %w as a mailbox or an alias", a, ErrExists)
	}
	return a, err
}

// RemoveAlias removes an alias.
func (s *Service) RemoveAlias(ctx context.Context, mailbox, alias string) error {
	a, err := address.Normalize(alias)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	owners, err := s.Aliases(ctx, mailbox)
	if err != nil {
		return err
	}
	for _, o := range owners {
		if o == a {
			return s.st.RemoveAlias(ctx, a)
		}
	}
	return fmt.Errorf("%s is not an alias of %s: %w", a, mailbox, ErrNotFound)
}

// Aliases lists the aliases of one mailbox.
func (s *Service) Aliases(ctx context.Context, mailbox string) ([]string, error) {
	m, err := s.Mailbox(ctx, mailbox)
	if err != nil {
		return nil, err
	}
	all, err := s.st.Aliases(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range all {
		if a.Mailbox == m.Address {
			out = append(out, a.Address)
		}
	}
	return out, nil
}

// GrantSpec names a grant: kind, the address or "@domain" it is on, and
// the mailbox it is given to.
type GrantSpec struct {
	Kind string // store.GrantSendAs, store.GrantSendOnBehalf or store.GrantFullAccess
	On   string
	To   string
}

// normalize validates a GrantSpec against the directory.
func (s *Service) normalize(ctx context.Context, g GrantSpec) (store.Grant, error) {
	switch g.Kind {
	case store.GrantSendAs, store.GrantSendOnBehalf, store.GrantFullAccess:
	default:
		return store.Grant{}, fmt.Errorf("%w: grant kind %q: want send-as, send-on-behalf or full-access", ErrInvalid, g.Kind)
	}
	to, err := s.Mailbox(ctx, g.To)
	if err != nil {
		return store.Grant{}, err
	}
	var on string
	if d, ok := strings.CutPrefix(g.On, "@"); ok {
		dom, err := s.Domain(ctx, d)
		if err != nil {
			return store.Grant{}, fmt.Errorf("grant on %s: %w", g.On, err)
		}
		on = "@" + dom.Name
	} else {
		if on, err = address.Normalize(g.On); err != nil {
			return store.Grant{}, fmt.Errorf("%w: --on: %v (give an address, or @domain for a whole domain)", ErrInvalid, err)
		}
	}
	return store.Grant{Kind: g.Kind, On: on, Grantee: to.Address}, nil
}

// AddGrant gives a mailbox the right to send as, or on behalf of, an
// address of a served domain (a mailbox or one of its aliases) or a whole
// served domain ("@example.com").
func (s *Service) AddGrant(ctx context.Context, g GrantSpec) (store.Grant, error) {
	sg, err := s.normalize(ctx, g)
	if err != nil {
		return sg, err
	}
	to, _ := s.Mailbox(ctx, sg.Grantee)
	if to.Shared {
		return sg, fmt.Errorf("%w: %s is a shared mailbox and cannot log in, so a grant to it is never used; grant a user mailbox instead", ErrInvalid, to.Address)
	}
	if sg.Kind == store.GrantFullAccess {
		if err := s.fullAccessTarget(ctx, sg); err != nil {
			return sg, err
		}
	} else if !strings.HasPrefix(sg.On, "@") {
		if sg.On == sg.Grantee {
			return sg, fmt.Errorf("%w: %s owns its own address; no grant is needed", ErrInvalid, sg.On)
		}
		if err := s.mustResolve(ctx, sg.On); err != nil {
			return sg, err
		}
	}
	out, err := s.st.AddGrant(ctx, sg)
	if errors.Is(err, store.ErrConflict) {
		return sg, fmt.Errorf("%s grant on %s to %s %w", sg.Kind, sg.On, sg.Grantee, ErrExists)
	}
	return out, err
}

// fullAccessTarget checks that a full-access grant is on another mailbox:
// folders belong to a mailbox, not to an alias or a whole domain.
func (s *Service) fullAccessTarget(ctx context.Context, g store.Grant) error {
	if strings.HasPrefix(g.On, "@") {
		return fmt.Errorf("%w: full access is to one mailbox's folders; --on %s names a domain", ErrInvalid, g.On)
	}
	if g.On == g.Grantee {
		return fmt.Errorf("%w: %s opens its own folders; no grant is needed", ErrInvalid, g.On)
	}
	if _, err := s.st.Mailbox(ctx, g.On); errors.Is(err, store.ErrNotFound) {
		if target, ok, err := s.aliasOwner(ctx, g.On); err != nil {
			return err
		} else if ok {
			return fmt.Errorf("%w: %s is an alias of %s; grant full access on %s", ErrInvalid, g.On, target, target)
		}
		return fmt.Errorf("%w: no mailbox %s: full access is to a mailbox of a served domain", ErrInvalid, g.On)
	} else if err != nil {
		return err
	}
	return nil
}

// aliasOwner returns the mailbox that owns alias addr, if it is one.
func (s *Service) aliasOwner(ctx context.Context, addr string) (string, bool, error) {
	als, err := s.st.Aliases(ctx)
	if err != nil {
		return "", false, err
	}
	for _, a := range als {
		if a.Address == addr {
			return a.Mailbox, true, nil
		}
	}
	return "", false, nil
}

// mustResolve checks that addr is a mailbox or an alias.
func (s *Service) mustResolve(ctx context.Context, addr string) error {
	if _, err := s.st.Mailbox(ctx, addr); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, ok, err := s.aliasOwner(ctx, addr); err != nil || ok {
		return err
	}
	domain := address.DomainOf(addr)
	if _, err := s.Domain(ctx, domain); errors.Is(err, ErrNotFound) {
		// An outside address (someone@gmail.com): no command makes it
		// grantable, so none is suggested.
		return fmt.Errorf("%s cannot be granted (%w): mailroom serves no domain %s, and a grant only lets a mailbox use an address of a domain served here (mailroom domain list shows them)",
			addr, ErrNotFound, domain)
	} else if err != nil {
		return err
	}
	return fmt.Errorf("%s is neither a mailbox nor an alias (%w); create it, e.g. mailroom mailbox add %s --shared, or grant a whole domain with --on @%s",
		addr, ErrNotFound, addr, domain)
}

// RevokeGrant removes a grant.
func (s *Service) RevokeGrant(ctx context.Context, g GrantSpec) error {
	sg, err := s.normalize(ctx, g)
	if err != nil {
		return err
	}
	if err := s.st.RemoveGrant(ctx, sg); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no %s grant on %s to %s: %w (mailroom grant list shows the grants)", sg.Kind, sg.On, sg.Grantee, ErrNotFound)
	} else if err != nil {
		return err
	}
	return nil
}

// Grants lists grants, filtered by what they are on and whom they are to
// (either may be ""). A filter on an address also lists the grants on its
// whole domain, since they apply to it.
func (s *Service) Grants(ctx context.Context, on, to string) ([]store.Grant, error) {
	if on != "" && !strings.HasPrefix(on, "@") {
		n, err := address.Normalize(on)
		if err != nil {
			return nil, fmt.Errorf("%w: --on: %v", ErrInvalid, err)
		}
		on = n
	} else if on != "" {
		d, err := address.Domain(on[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: --on: %v", ErrInvalid, err)
		}
		on = "@" + d
	}
	if to != "" {
		n, err := address.Normalize(to)
		if err != nil {
			return nil, fmt.Errorf("%w: --to: %v", ErrInvalid, err)
		}
		to = n
	}
	all, err := s.st.Grants(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Grant
	for _, g := range all {
		if to != "" && g.Grantee != to {
			continue
		}
		if on != "" && g.On != on && !(strings.Contains(on, "@") && !strings.HasPrefix(on, "@") && g.On == "@"+address.DomainOf(on)) {
			continue
		}
		out = append(out, g)
	}
	return out, nil
}
