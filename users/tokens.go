package users

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
)

// Tokens is where sdkauth issues tokens: each OAuth grant (Password,
// Refresh, ClientCredentials), the token pair that sign-up and a password
// change hand out (IssuePair), the tokens an admin mints for a user (Mint,
// MintOnBehalf), and the check of a bearer access token
// (AuthenticateBearer). Each token is granted within its user's policy.
type Tokens struct {
	Users    *Service
	Sessions *auth.Sessions
	Policies *auth.Policies
	Minter   *keys.Minter
	Verifier *keys.Verifier
	// Audit records tokens minted on a user's behalf and admin tokens; nil
	// records nothing.
	Audit *auth.Audit
	// AdminTTL is how long admin tokens live unless a request asks for
	// another lifetime.
	AdminTTL time.Duration
}

// Ask is what a token request asks for beyond the defaults.
type Ask struct {
	// TTL is the token's lifetime; 0 is the policy's default.
	TTL time.Duration
	// ACL narrows the policy's ACL; nil is the policy's ACL.
	ACL *keys.ACL
}

// Issued is what a token request is answered with.
type Issued struct {
	// User is the user the tokens are for; the zero User for a service
	// client's admin token.
	User User
	// AccessToken is the signed JWT, and Claims what it says; empty while
	// the user has no Vonage user (a sign-up or password change then
	// hands out the refresh token alone).
	AccessToken string
	Claims      keys.Claims
	// RefreshToken continues the session; empty for an admin token.
	RefreshToken string
	// Scopes are the scopes granted to a service client.
	Scopes []string
}

// HasUser reports whether the tokens are a user's.
func (i Issued) HasUser() bool { return i.User.ID != uuid.Nil }

// IssuePair is the one place a session starts: it mints u's access token
// under u's policy narrowed by ask (none while u is not provisioned yet,
// since Vonage would refuse a token naming it) and then starts a session
// from origin, whose first refresh token it returns along. A refused ask
// starts no session. It returns Mint's errors or the database's.
func (t *Tokens) IssuePair(ctx context.Context, u User, from auth.Origin, ask Ask) (Issued, error) {
	out := Issued{User: u}
	if u.Provisioning == StateProvisioned {
		var err error
		if out.AccessToken, out.Claims, err = t.Mint(ctx, u, ask); err != nil {
			return Issued{}, err
		}
	}
	refresh, err := t.Sessions.Start(ctx, u.ID, from)
	if err != nil {
		return Issued{}, err
	}
	out.RefreshToken = refresh
	return out, nil
}

// SignUp creates a user (Service.SignUp, with its errors) and issues the
// user's first token pair from origin; the access token is missing while
// the Vonage user is not created yet.
func (t *Tokens) SignUp(ctx context.Context, in SignUpInput, from auth.Origin) (Issued, error) {
	u, err := t.Users.SignUp(ctx, in)
	if err != nil {
		return Issued{}, err
	}
	return t.IssuePair(ctx, u, from, Ask{})
}

// ChangePassword sets a new password, which ends every session of the user
// (Service.ChangePassword, with its errors), and issues a fresh token pair
// for the caller from origin.
func (t *Tokens) ChangePassword(ctx context.Context, id uuid.UUID, current, next string, from auth.Origin) (Issued, error) {
	u, err := t.Users.ChangePassword(ctx, id, current, next)
	if err != nil {
		return Issued{}, err
	}
	return t.IssuePair(ctx, u, from, Ask{})
}

// Password is the password grant (RFC 6749 §4.3): it authenticates the
// user (Service.Authenticate, with its errors) and issues a token pair
// from origin. A user without a Vonage user yet gets
// CodeProvisioningPending and no session.
func (t *Tokens) Password(ctx context.Context, username, password string, ask Ask, from auth.Origin) (Issued, error) {
	u, err := t.Users.Authenticate(ctx, username, password)
	if err != nil {
		return Issued{}, err
	}
	if u.Provisioning != StateProvisioned {
		return Issued{}, sdkauth.ProvisioningPending()
	}
	return t.IssuePair(ctx, u, from, ask)
}

// Refresh is the refresh grant (RFC 6749 §6): it rotates the refresh token
// (auth.Sessions.Refresh, with its errors) and mints the user's access
// token under the user's policy as stored now, narrowed by ask.
func (t *Tokens) Refresh(ctx context.Context, refreshToken string, ask Ask) (Issued, error) {
	var acl keys.ACL
	var ttl time.Duration
	grantUnder := func(pol auth.Policy) (err error) {
		acl, ttl, err = t.Policies.Grant(pol, ask.TTL, ask.ACL)
		return err
	}
	// A ttl or acl may be refused, so such a request is checked against the
	// user's policy before the token rotates, and a refusal leaves the
	// refresh token usable. Without them nothing can be refused (the policy
	// exists by foreign key, and Grant caps the default ttl at the policy's
	// maximum), so the grant is worked out afterwards and Refresh may rotate
	// in a single statement.
	var authorize func(auth.Policy) error
	if ask.TTL != 0 || ask.ACL != nil {
		authorize = grantUnder
	}
	r, err := t.Sessions.Refresh(ctx, refreshToken, authorize)
	if err != nil {
		return Issued{}, err
	}
	if authorize == nil {
		if err := grantUnder(r.Policy); err != nil {
			return Issued{}, err
		}
	}
	u := FromRow(r.User)
	tok, claims, err := t.Minter.UserToken(u.Username, acl, ttl)
	if err != nil {
		return Issued{}, err
	}
	return Issued{User: u, AccessToken: tok, Claims: claims, RefreshToken: r.RefreshToken}, nil
}

// ClientCredentials is the client credentials grant (RFC 6749 §4.4): an
// admin token (no sub; an acl only when asked for) for the service client
// cl, already authenticated, which must hold tokens:admin. scope, a
// space-separated list, may name any of the client's own scopes; Scopes
// lists those granted (all of them when scope is empty). There is no
// refresh token: the client authenticates again. The issue is audited with
// cl as the actor; a token whose issue is not in the audit log is not
// handed out. It returns CodeInvalidClient for a nil cl,
// CodeUnauthorizedClient, CodeInvalidScope, or the audit's error.
func (t *Tokens) ClientCredentials(ctx context.Context, cl *auth.ServiceClient, scope string, ask Ask) (Issued, error) {
	if cl == nil {
		return Issued{}, auth.ErrInvalidClient()
	}
	if !cl.Has(auth.ScopeTokensAdmin) {
		return Issued{}, sdkauth.Errorf(sdkauth.CodeUnauthorizedClient, "This client lacks the %q scope.", auth.ScopeTokensAdmin)
	}
	granted := cl.Scopes
	if scope != "" {
		granted = strings.Fields(scope)
		for _, s := range granted {
			if !cl.Has(s) {
				return Issued{}, &sdkauth.Error{
					Code:    sdkauth.CodeInvalidScope,
					Message: fmt.Sprintf("This client does not hold the scope %q.", s),
					Fields:  []sdkauth.FieldError{{Name: "scope", Reason: fmt.Sprintf("%q is not one of the client's scopes", s)}},
				}
			}
		}
	}
	ttl := ask.TTL
	if ttl == 0 {
		ttl = t.AdminTTL
	}
	claims, err := t.Minter.AdminClaims(ttl, ask.ACL)
	if err != nil {
		return Issued{}, err
	}
	// The audit row is sent before the token is signed, so its round trip
	// and commit overlap the signature instead of following it; the token
	// is still handed out only once its row is stored. Should signing then
	// fail, the log names a jti nobody received: it may say too much,
	// never too little.
	stored := t.Audit.Start(auth.ActingAs(ctx, cl.ID), auth.Event{Type: auth.EventAdminTokenIssued, Detail: "jti=" + claims.ID})
	tok, signErr := t.Minter.Sign(claims)
	if err := stored(); err != nil {
		return Issued{}, err
	}
	if signErr != nil {
		return Issued{}, signErr
	}
	return Issued{AccessToken: tok, Claims: claims, Scopes: granted}, nil
}

// AuthenticateBearer finds the user of a bearer access token: a Vonage JWT
// verified against our keys and application, whose sub names a user that
// existed when it was issued (a deleted name registered again must not
// inherit the old user's live tokens), is not disabled, and has not logged
// out everywhere or changed password since. Admin tokens (no sub) are
// refused. It returns CodeInvalidToken, or the database's error.
func (t *Tokens) AuthenticateBearer(ctx context.Context, raw string) (User, keys.Claims, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return User{}, keys.Claims{}, errInvalidToken("A bearer access token is required.")
	}
	claims, err := t.Verifier.Verify(raw)
	if err != nil {
		return User{}, claims, &sdkauth.Error{Code: sdkauth.CodeInvalidToken, Message: "The access token is not valid.", Err: err}
	}
	if claims.Subject == "" {
		return User{}, claims, errInvalidToken("The access token names no user.")
	}
	u, err := t.Users.GetByUsername(ctx, claims.Subject)
	if sdkauth.ErrorCode(err) == sdkauth.CodeNotFound {
		return u, claims, errInvalidToken("The access token's user no longer exists.")
	}
	if err != nil {
		return u, claims, err
	}
	// iat has whole seconds; created_at has microseconds, and
	// TokensValidAfter is already whole seconds.
	if claims.IssuedAt.Before(u.CreatedAt.Truncate(time.Second)) || claims.IssuedAt.Before(u.TokensValidAfter) || u.Disabled {
		return u, claims, errInvalidToken("The access token is not valid for this user.")
	}
	return u, claims, nil
}

func errInvalidToken(msg string) error {
	return sdkauth.Errorf(sdkauth.CodeInvalidToken, "%s", msg)
}

// Mint signs a token for u under u's policy, narrowed by ask. It returns
// CodeProvisioningPending while u has no Vonage user yet (Vonage would
// refuse a token naming it), CodeNotFound for a policy deleted meanwhile,
// a validation error naming ttl, or CodeACLNotAllowed.
func (t *Tokens) Mint(ctx context.Context, u User, ask Ask) (string, keys.Claims, error) {
	if u.Provisioning != StateProvisioned {
		return "", keys.Claims{}, sdkauth.ProvisioningPending()
	}
	pol, err := t.Policies.Get(ctx, u.Policy)
	if err != nil {
		return "", keys.Claims{}, err
	}
	acl, ttl, err := t.Policies.Grant(pol, ask.TTL, ask.ACL)
	if err != nil {
		return "", keys.Claims{}, err
	}
	return t.Minter.UserToken(u.Username, acl, ttl)
}

// MintOnBehalf mints a token for u as Mint does, for a service client
// acting for the user (the tokens:user scope, checked by the caller), and
// records user_token_issued with the acting client: a token whose issue is
// not in the audit log is not handed out. It also returns CodeForbidden
// for a disabled user, or the audit's error.
func (t *Tokens) MintOnBehalf(ctx context.Context, u User, ask Ask) (Issued, error) {
	if u.Disabled {
		return Issued{}, sdkauth.Errorf(sdkauth.CodeForbidden, "The user is disabled.")
	}
	tok, claims, err := t.Mint(ctx, u, ask)
	if err != nil {
		return Issued{}, err
	}
	if err := t.Audit.Require(ctx, auth.Event{Type: auth.EventUserTokenIssued, UserID: u.ID, Username: u.Username}); err != nil {
		return Issued{}, err
	}
	return Issued{User: u, AccessToken: tok, Claims: claims}, nil
}
