package directory

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters. The defaults follow OWASP's
// recommendation (19 MiB, 2 passes, 1 lane): a verification costs tens of
// milliseconds and 19 MiB, so a burst of logins cannot exhaust memory.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
}

// DefaultParams are used for every new hash.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, KeyLen: 32}

// ErrBadHash is returned for a stored hash this package cannot read.
var ErrBadHash = errors.New("unreadable password hash")

// HashPassword returns a PHC-encoded argon2id hash of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashPassword(password string, p Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the PHC-encoded hash.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, ErrBadHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, ErrBadHash
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return false, ErrBadHash
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// GeneratePassword returns a random password: 26 characters of base32
// (A-Z, 2-7), 128 bits, easy to read aloud and to paste into a device.
func GeneratePassword() string { return rand.Text() }

// appLookupLen is the length of an app password's public lookup prefix.
const appLookupLen = 8

// NewAppPassword returns a fresh app password: an 8-character lookup
// prefix that names it among its mailbox's app passwords, then 20 secret
// characters (100 bits). The prefix lets a login check one hash, so every
// login costs the same whatever the number of app passwords.
func NewAppPassword() string {
	return rand.Text()[:appLookupLen] + rand.Text()[:20]
}

// HashAppPassword returns the stored form of an app password: its lookup
// prefix followed by the argon2id hash of the whole password.
func HashAppPassword(password string, p Params) (string, error) {
	if len(password) <= appLookupLen {
		return "", errors.New("app password too short")
	}
	h, err := HashPassword(password, p)
	if err != nil {
		return "", err
	}
	return password[:appLookupLen] + h, nil
}

// appLookup returns the lookup prefix of a stored app password hash.
func appLookup(stored string) string {
	if i := strings.IndexByte(stored, '$'); i == appLookupLen {
		return stored[:i]
	}
	return ""
}
