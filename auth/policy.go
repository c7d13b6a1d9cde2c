package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/keys"
)

// Policy is a named ACL with the longest lifetime its tokens may have.
type Policy struct {
	Name   string
	ACL    keys.ACL
	MaxTTL time.Duration
	// BuiltIn is true for ClientSDK, which cannot be changed or deleted.
	BuiltIn bool
}

// ClientSDK is the name of the built-in policy: the default Client SDK ACL.
const ClientSDK = "client-sdk"

// Policies looks up, stores and grants named ACL policies. Policies are
// read from Postgres on every token request, not cached, so a change
// applies from the next token on every replica; a primary-key read costs
// far less than the RSA signature that follows it.
type Policies struct {
	pool       *pgxpool.Pool
	defaultTTL time.Duration
	clientSDK  Policy
	audit      *Audit
}

// NewPolicies returns the policy store. Tokens live defaultTTL unless a
// request asks for less or (up to the policy's maximum) more; the built-in
// client-sdk policy allows up to maxTTL. audit may be nil.
func NewPolicies(pool *pgxpool.Pool, defaultTTL, maxTTL time.Duration, audit *Audit) *Policies {
	return &Policies{
		pool:       pool,
		defaultTTL: defaultTTL,
		clientSDK:  Policy{Name: ClientSDK, ACL: keys.DefaultACL(), MaxTTL: maxTTL, BuiltIn: true},
		audit:      audit,
	}
}

// Get returns the policy called name, or CodeNotFound.
func (p *Policies) Get(ctx context.Context, name string) (Policy, error) {
	if name == ClientSDK {
		return p.builtin(), nil
	}
	row, err := db.New(p.pool).GetPolicy(ctx, name)
	if db.IsNotFound(err) {
		return Policy{}, sdkauth.Errorf(sdkauth.CodeNotFound, "No policy called %q.", name)
	}
	if err != nil {
		return Policy{}, err
	}
	return fromRow(row)
}

// FromRow returns the policy that row, read along with a user (see
// Sessions.Refresh), stands for: client-sdk's row only anchors the users'
// foreign key, so its ACL and maximum TTL come from configuration. It
// returns an error only for a stored ACL that no longer parses.
func (p *Policies) FromRow(row db.Policy) (Policy, error) {
	if row.Name == ClientSDK {
		return p.builtin(), nil
	}
	return fromRow(row)
}

// List returns every policy, client-sdk first, then by name.
func (p *Policies) List(ctx context.Context) ([]Policy, error) {
	rows, err := db.New(p.pool).ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	out := []Policy{p.builtin()}
	for _, r := range rows {
		if r.Name == ClientSDK {
			continue
		}
		pol, err := fromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, pol)
	}
	return out, nil
}

// builtin returns client-sdk with a fresh ACL, so no caller can alter
// another's.
func (p *Policies) builtin() Policy {
	pol := p.clientSDK
	pol.ACL = keys.DefaultACL()
	return pol
}

func fromRow(r db.Policy) (Policy, error) {
	acl, err := keys.ParseACL(r.Acl)
	if err != nil {
		return Policy{}, fmt.Errorf("policy %q: stored acl: %w", r.Name, err)
	}
	return Policy{Name: r.Name, ACL: acl, MaxTTL: time.Duration(r.MaxTtl) * time.Second}, nil
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

// encodeACL is the stored form of a validated ACL.
func encodeACL(acl keys.ACL) ([]byte, error) {
	b, err := json.Marshal(acl)
	if err != nil {
		return nil, fmt.Errorf("encoding acl: %w", err)
	}
	return b, nil
}
