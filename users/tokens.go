package users

import (
	"context"
	"time"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
)

// Tokens mints Client SDK tokens for users, each within its user's policy.
// The token grant, sign-up, /v1/me, the admin API and the console share it.
type Tokens struct {
	Policies *auth.Policies
	Minter   *keys.Minter
	// Audit records tokens minted on a user's behalf; nil records nothing.
	Audit *auth.Audit
}

// Mint signs a token for u under u's policy, narrowed by ttl (0 = the
// policy's default) and acl (nil = the policy's). It returns
// CodeProvisioningPending while u has no Vonage user yet (Vonage would
// refuse a token naming it), CodeNotFound for a policy deleted meanwhile,
// a validation error naming ttl, or CodeACLNotAllowed.
func (t Tokens) Mint(ctx context.Context, u User, ttl time.Duration, acl *keys.ACL) (string, keys.Claims, error) {
	if u.Provisioning != StateProvisioned {
		return "", keys.Claims{}, sdkauth.ProvisioningPending()
	}
	pol, err := t.Policies.Get(ctx, u.Policy)
	if err != nil {
		return "", keys.Claims{}, err
	}
	grantACL, grantTTL, err := t.Policies.Grant(pol, ttl, acl)
	if err != nil {
		return "", keys.Claims{}, err
	}
	return t.Minter.UserToken(u.Username, grantACL, grantTTL)
}

// MintOnBehalf mints a token for u as Mint does, for a service client
// acting for the user (the tokens:user scope, checked by the caller), and
// records user_token_issued with the acting client: a token whose issue is
// not in the audit log is not handed out. It also returns CodeForbidden
// for a disabled user, or the audit's error.
func (t Tokens) MintOnBehalf(ctx context.Context, u User, ttl time.Duration, acl *keys.ACL) (string, keys.Claims, error) {
	if u.Disabled {
		return "", keys.Claims{}, sdkauth.Errorf(sdkauth.CodeForbidden, "The user is disabled.")
	}
	tok, claims, err := t.Mint(ctx, u, ttl, acl)
	if err != nil {
		return "", keys.Claims{}, err
	}
	if err := t.Audit.Require(ctx, auth.Event{Type: auth.EventUserTokenIssued, UserID: u.ID, Username: u.Username}); err != nil {
		return "", keys.Claims{}, err
	}
	return tok, claims, nil
}
