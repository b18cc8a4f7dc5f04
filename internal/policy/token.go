package policy

import (
	"fmt"
	"slices"
	"strings"
)

// The reasons of a token login refused before the login policy: RFC 7628
// status values (IANA "OAuth Extensions Error Registry").
const (
	ReasonInvalidToken      Reason = "invalid_token"      // the token does not verify, or does not let its holder act as the mailbox asked for
	ReasonInsufficientScope Reason = "insufficient_scope" // a verified token without a scope (delegated) or role (app-only) the issuer requires
)

// Token is what the token-login decision needs to know of a verified
// token, with every address already resolved by the caller to the
// canonical address of the mailbox it names ("" when it names none).
type Token struct {
	Issuer string
	// AppOnly is a client-credentials token: it acts for an application
	// (Client), not a person.
	AppOnly bool
	Client  string
	// Claim is the delegated token's user claim as it came (for the
	// message); Claimed is the mailbox it names.
	ClaimName string
	Claim     string
	Claimed   string
	// Asked is the SASL user (XOAUTH2 user=, OAUTHBEARER a=) as typed,
	// Requested the mailbox it names; both "" when the client gave none.
	Asked     string
	Requested string
	// Mailboxes are the mailboxes an app-only Client may act as.
	Mailboxes []string

	// Scopes (scp or scope) and Roles (roles) the token carries; HasRoles
	// says whether it has a roles claim at all.
	Scopes   []string
	Roles    []string
	HasRoles bool
	// Required are the issuer's required scopes (delegated tokens) and
	// RequiredRoles its required roles (app-only tokens).
	Required      []string
	RequiredRoles []string
}

// TokenLogin decides which mailbox a verified token logs in as, before
// the login policy (Login) applies to that mailbox as it does to a
// password. As Exchange Online: a delegated token acts as the person its
// claim names, and the SASL user, when given, must name the same mailbox
// (its own address or one of its aliases); an app-only token acts as the
// mailbox the SASL user names, which must be one its client was given.
// A scope check comes first: a token without a required scope (delegated,
// in scp/scope) or role (app-only, in roles; in scope when the token has
// no roles claim, as Keycloak's client-credentials tokens) is refused
// whatever it names.
func TokenLogin(t Token) (mailbox string, d Decision) {
	if missing := MissingScopes(t); len(missing) > 0 {
		kind, where := "scope", "scp/scope"
		if t.AppOnly {
			kind, where = "role", "roles"
			if !t.HasRoles {
				where = "scope"
			}
		}
		return "", Deny(ReasonInsufficientScope, fmt.Sprintf("the token lacks the %s %s (in its %s claim) that issuer %s requires; request a token with it",
			kind, strings.Join(missing, " "), where, t.Issuer))
	}
	if t.AppOnly {
		if len(t.Mailboxes) == 0 {
			return "", Deny(ReasonInvalidToken, fmt.Sprintf("the app-only token of client %s (issuer %s) may act as no mailbox here; an administrator can allow it with: mailroom oauth-client add %s --issuer %s --mailbox ADDRESS",
				t.Client, t.Issuer, t.Client, t.Issuer))
		}
		if t.Asked == "" {
			return "", Deny(ReasonInvalidToken, fmt.Sprintf("an app-only token needs the mailbox to act as in the SASL user (XOAUTH2 user=, OAUTHBEARER a=); client %s may act as %s",
				t.Client, strings.Join(t.Mailboxes, ", ")))
		}
		if t.Requested == "" || !slices.Contains(t.Mailboxes, t.Requested) {
			return "", Deny(ReasonInvalidToken, fmt.Sprintf("client %s (issuer %s) may not act as %s; it may act as %s",
				t.Client, t.Issuer, t.Asked, strings.Join(t.Mailboxes, ", ")))
		}
		return t.Requested, Allowed()
	}
	if t.Claim == "" {
		return "", Deny(ReasonInvalidToken, fmt.Sprintf("the token has no %s claim to name the mailbox, and is not an app-only token", t.ClaimName))
	}
	if t.Claimed == "" {
		return "", Deny(ReasonInvalidToken, fmt.Sprintf("the token's %s claim %s names no mailbox here", t.ClaimName, t.Claim))
	}
	if t.Asked != "" && t.Requested != t.Claimed {
		return "", Deny(ReasonInvalidToken, fmt.Sprintf("the token is %s's (its %s claim), and a delegated token logs in only as its own mailbox, not as %s; send as %s with a send-as grant instead",
			t.Claimed, t.ClaimName, t.Asked, t.Asked))
	}
	return t.Claimed, Allowed()
}

// MissingScopes returns the required scopes (delegated) or roles
// (app-only) the token does not carry, in the order required.
func MissingScopes(t Token) []string {
	want, have := t.Required, t.Scopes
	if t.AppOnly {
		want = t.RequiredRoles
		if t.HasRoles {
			have = t.Roles
		}
	}
	var missing []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			missing = append(missing, w)
		}
	}
	return missing
}
