package store

import (
	"context"
	"time"
)

// ConsoleUser is an administrator of the web console. Console users are
// not mailboxes: they cannot send mail, and mailboxes cannot log in to
// the console.
type ConsoleUser struct {
	ID           int64
	Name         string // unique
	PasswordHash string // argon2id, PHC format
	CreatedAt    time.Time
}

// ConsoleUsers stores the web console's administrator accounts.
type ConsoleUsers interface {
	// AddConsoleUser stores a user (ID and CreatedAt are set); ErrConflict if the name exists.
	AddConsoleUser(ctx context.Context, u ConsoleUser) (ConsoleUser, error)
	// ConsoleUser returns the user with that name; ErrNotFound if none.
	ConsoleUser(ctx context.Context, name string) (ConsoleUser, error)
	// ConsoleUsers lists the users by name.
	ConsoleUsers(ctx context.Context) ([]ConsoleUser, error)
	// SetConsolePassword replaces a user's password hash; ErrNotFound if absent.
	SetConsolePassword(ctx context.Context, name, hash string) error
	// RemoveConsoleUser deletes the user with that name; ErrNotFound if absent.
	RemoveConsoleUser(ctx context.Context, name string) error
}
