package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/keys"
)

// Policy is a named ACL with the longest lifetime its tokens may have.
type Policy struct {
	Name   string
	ACL    keys.ACL
	MaxTTL time.Duration
}

// ClientSDK is the name of the built-in policy: the default Client SDK ACL.
const ClientSDK = "client-sdk"

// Policies looks up policies by name.
type Policies struct {
	builtin    map[string]Policy
	defaultTTL time.Duration
}

// NewPolicies returns the built-in policies; tokens live defaultTTL unless a
// request asks for less or (up to the policy's maximum) more.
func NewPolicies(defaultTTL, maxTTL time.Duration) *Policies {
	return &Policies{
		defaultTTL: defaultTTL,
		builtin: map[string]Policy{
			ClientSDK: {Name: ClientSDK, ACL: keys.DefaultACL(), MaxTTL: maxTTL},
		},
	}
}

// Get returns the policy called name, or CodeNotFound.
func (p *Policies) Get(_ context.Context, name string) (Policy, error) {
	if pol, ok := p.builtin[name]; ok {
		return pol, nil
	}
	return Policy{}, sdkauth.Errorf(sdkauth.CodeNotFound, "No policy called %q.", name)
}

// Grant works out what a token may carry under policy pol: the requested
// ttl (0 = the default, capped at the policy's maximum) and the requested
// ACL (nil = the policy's), which may narrow the policy but never widen it.
// It returns a validation error naming ttl, or CodeACLNotAllowed.
func (p *Policies) Grant(pol Policy, ttl time.Duration, acl *keys.ACL) (keys.ACL, time.Duration, error) {
	if ttl == 0 {
		ttl = min(p.defaultTTL, pol.MaxTTL)
	}
	if ttl < keys.MinTTL || ttl > pol.MaxTTL {
		return keys.ACL{}, 0, sdkauth.Invalid(sdkauth.FieldError{
			Name:   "ttl",
			Reason: fmt.Sprintf("must be between %d and %d seconds", int64(keys.MinTTL/time.Second), int64(pol.MaxTTL/time.Second)),
		})
	}
	if acl == nil {
		return pol.ACL, ttl, nil
	}
	got, err := pol.ACL.Narrow(*acl)
	if err != nil {
		var ae *keys.ACLError
		reason := err.Error()
		field := "acl"
		if errors.As(err, &ae) {
			field, reason = ae.Field, ae.Reason
		}
		return keys.ACL{}, 0, &sdkauth.Error{
			Code:    sdkauth.CodeACLNotAllowed,
			Message: "The requested acl asks for more than the user's policy allows.",
			Fields:  []sdkauth.FieldError{{Name: field, Reason: reason}},
		}
	}
	return got, ttl, nil
}
