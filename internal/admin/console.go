package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"mailroom/internal/directory"
	"mailroom/internal/store"
)

// Console users are the web console's administrators: a name and an
// argon2id password, apart from mailboxes (a mailbox password never opens
// the console).

// MaxConsoleUserName is the longest console user name, in octets: the
// console refuses a longer one before it counts or logs it.
const MaxConsoleUserName = 64

// AddConsoleUser creates a console user with password.
func (s *Service) AddConsoleUser(ctx context.Context, name, password string) (store.ConsoleUser, error) {
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " \t\r\n") || len(name) > MaxConsoleUserName {
		return store.ConsoleUser{}, fmt.Errorf("%w: console user name %q: want a short name without spaces, such as admin", ErrInvalid, name)
	}
	h, err := s.hash(password)
	if err != nil {
		return store.ConsoleUser{}, err
	}
	u, err := s.st.AddConsoleUser(ctx, store.ConsoleUser{Name: name, PasswordHash: h})
	if errors.Is(err, store.ErrConflict) {
		return u, fmt.Errorf("console user %s %w; mailroom admin user passwd changes its password", name, ErrExists)
	}
	return u, err
}

// SetConsolePassword replaces a console user's password.
func (s *Service) SetConsolePassword(ctx context.Context, name, password string) error {
	h, err := s.hash(password)
	if err != nil {
		return err
	}
	if err := s.st.SetConsolePassword(ctx, name, h); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("console user %s %w (mailroom admin user list shows them)", name, ErrNotFound)
	} else if err != nil {
		return err
	}
	return nil
}

// ConsoleUsers lists the console users.
func (s *Service) ConsoleUsers(ctx context.Context) ([]store.ConsoleUser, error) {
	return s.st.ConsoleUsers(ctx)
}

// RemoveConsoleUser deletes a console user; its sessions end at their
// next request. The last console user stays: without one, nobody could
// log in to the console to add another.
func (s *Service) RemoveConsoleUser(ctx context.Context, name string) error {
	us, err := s.st.ConsoleUsers(ctx)
	if err != nil {
		return err
	}
	if len(us) == 1 && us[0].Name == name {
		return fmt.Errorf("%w: %s is the last console user; add another first (mailroom admin user add), or nobody can log in to the console", ErrInvalid, name)
	}
	if err := s.st.RemoveConsoleUser(ctx, name); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("console user %s %w (mailroom admin user list shows them)", name, ErrNotFound)
	} else if err != nil {
		return err
	}
	return nil
}

// CheckConsoleLogin returns the console user name and password identify,
// or ErrUnauthorized. An unknown name costs one password hash too, so the
// answer's timing does not tell which names exist.
func (s *Service) CheckConsoleLogin(ctx context.Context, name, password string) (store.ConsoleUser, error) {
	u, err := s.st.ConsoleUser(ctx, strings.TrimSpace(name))
	if errors.Is(err, store.ErrNotFound) {
		_, _ = directory.HashPassword(password, s.Params)
		return u, ErrUnauthorized
	}
	if err != nil {
		return u, err
	}
	ok, err := directory.CheckPassword(u.PasswordHash, password)
	if err != nil || !ok {
		return store.ConsoleUser{}, ErrUnauthorized
	}
	return u, nil
}

// ConsoleUser returns the console user named name, or ErrUnauthorized when
// there is none (any more): a session of a removed user ends.
func (s *Service) ConsoleUser(ctx context.Context, name string) (store.ConsoleUser, error) {
	u, err := s.st.ConsoleUser(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return u, ErrUnauthorized
	}
	return u, err
}
