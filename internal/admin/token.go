package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"mailroom/internal/store"
)

// TokenPrefix starts every API token, so a leaked one is recognisable
// (secret scanners) and a token is never mistaken for a password.
const TokenPrefix = "mrt_"

// ErrUnauthorized is returned by CheckToken for a missing, unknown or
// revoked token.
var ErrUnauthorized = errors.New("unauthorized")

// hashToken is the stored form of a token. A token is 256 random bits, so
// unlike a password it cannot be guessed from a dictionary: one SHA-256 is
// enough to make a stolen database useless, and a slow hash (argon2id)
// would only make every API request slow.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// AddToken creates an API token labelled label and returns it with the
// token, which is shown once and never stored.
func (s *Service) AddToken(ctx context.Context, label string) (store.APIToken, string, error) {
	label = strings.TrimSpace(label)
	if label == "" || strings.ContainsAny(label, " \t\r\n") || len(label) > 64 {
		return store.APIToken{}, "", fmt.Errorf("%w: label %q: want a short name without spaces, such as deploy-bot", ErrInvalid, label)
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	token := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	t, err := s.st.AddAPIToken(ctx, store.APIToken{Label: label, Hash: hashToken(token)})
	if errors.Is(err, store.ErrConflict) {
		return t, "", fmt.Errorf("api token %s %w; revoke it first or pick another label", label, ErrExists)
	}
	if err != nil {
		return t, "", err
	}
	return t, token, nil
}

// Tokens lists the API tokens (labels and creation times; the tokens
// themselves are not stored).
func (s *Service) Tokens(ctx context.Context) ([]store.APIToken, error) { return s.st.APITokens(ctx) }

// RevokeToken deletes an API token; requests with it fail from then on.
func (s *Service) RevokeToken(ctx context.Context, label string) error {
	if err := s.st.RevokeAPIToken(ctx, label); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("api token %s %w (mailroom admin token list shows them)", label, ErrNotFound)
	} else if err != nil {
		return err
	}
	return nil
}

// CheckToken returns the API token token is, or ErrUnauthorized.
func (s *Service) CheckToken(ctx context.Context, token string) (store.APIToken, error) {
	if !strings.HasPrefix(token, TokenPrefix) {
		return store.APIToken{}, ErrUnauthorized
	}
	t, err := s.st.APITokenByHash(ctx, hashToken(token))
	if errors.Is(err, store.ErrNotFound) {
		return t, ErrUnauthorized
	}
	return t, err
}

// conflictError is a refusal because other objects depend on the one
// named (a domain that still has mailboxes): errors.Is(err,
// store.ErrConflict) holds, and the text is only the message.
type conflictError string

func (e conflictError) Error() string { return string(e) }
func (e conflictError) Unwrap() error { return store.ErrConflict }
