package keys

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Claims are exactly the claims of a Vonage JWT. There is deliberately no
// NotBefore: Vonage has been reported to reject tokens carrying nbf.
type Claims struct {
	ApplicationID string    // application_id
	Subject       string    // sub: the Vonage user name (not the USR- id); empty for admin tokens
	ACL           *ACL      // acl; nil means the claim is omitted
	IssuedAt      time.Time // iat, whole seconds
	ExpiresAt     time.Time // exp, whole seconds
	ID            string    // jti, a UUID v4
}

// Token lifetimes. MaxTTL is Vonage's own limit: it refuses tokens whose
// exp is more than 24 hours after iat.
const (
	DefaultTTL = 900 * time.Second
	MinTTL     = 30 * time.Second
	MaxTTL     = 86400 * time.Second
)

// TTLError is returned when a requested lifetime is outside [Min, Max].
type TTLError struct {
	TTL, Min, Max time.Duration
}

func (e *TTLError) Error() string {
	return fmt.Sprintf("keys: token lifetime %d s is outside [%d s, %d s]",
		int64(e.TTL/time.Second), int64(e.Min/time.Second), int64(e.Max/time.Second))
}

// ErrEmptySubject is returned by Minter.UserToken for an empty user name,
// which would otherwise silently produce an admin-shaped token.
var ErrEmptySubject = errors.New("keys: a user token needs a subject (the Vonage user name)")

// Minter builds Vonage claims and signs them. It is safe for concurrent use
// when its Signer is.
type Minter struct {
	ApplicationID string
	Signer        Signer
	Now           func() time.Time // nil means time.Now
}

// UserToken mints a Client SDK token for the Vonage user called name, with
// acl as its acl claim, valid for ttl (whole seconds; a fraction is
// dropped). It returns the token and the claims it carries.
//
// It returns ErrEmptySubject for an empty name, a *TTLError when ttl is
// outside [MinTTL, MaxTTL], an *ACLError when acl is not valid, or the
// Signer's error.
func (m *Minter) UserToken(name string, acl ACL, ttl time.Duration) (string, Claims, error) {
	if name == "" {
		return "", Claims{}, ErrEmptySubject
	}
	if err := checkTTL(ttl); err != nil {
		return "", Claims{}, err
	}
	if err := acl.Validate(); err != nil {
		return "", Claims{}, err
	}
	c, err := m.claims(ttl)
	if err != nil {
		return "", Claims{}, err
	}
	c.Subject = name
	c.ACL = &acl
	return m.sign(c)
}

// AdminToken mints an admin token (no sub) valid for ttl, for calling
// Vonage's REST APIs. It carries an acl claim only when acl is non-nil,
// since Vonage treats an admin token without one as unrestricted.
//
// It returns a *TTLError when ttl is outside [MinTTL, MaxTTL], an
// *ACLError when acl is given and not valid, or the Signer's error.
func (m *Minter) AdminToken(ttl time.Duration, acl *ACL) (string, Claims, error) {
	c, err := m.AdminClaims(ttl, acl)
	if err != nil {
		return "", Claims{}, err
	}
	return m.sign(c)
}

// AdminClaims is AdminToken without the signature: the claims, with a
// fresh jti, that Sign turns into the token. It returns AdminToken's
// errors but the Signer's.
func (m *Minter) AdminClaims(ttl time.Duration, acl *ACL) (Claims, error) {
	if err := checkTTL(ttl); err != nil {
		return Claims{}, err
	}
	if acl != nil {
		if err := acl.Validate(); err != nil {
			return Claims{}, err
		}
	}
	c, err := m.claims(ttl)
	if err != nil {
		return Claims{}, err
	}
	c.ACL = acl
	return c, nil
}

// Sign signs claims made by AdminClaims and returns the token.
func (m *Minter) Sign(c Claims) (string, error) { return m.Signer.Sign(c) }

func checkTTL(ttl time.Duration) error {
	if ttl < MinTTL || ttl > MaxTTL {
		return &TTLError{TTL: ttl, Min: MinTTL, Max: MaxTTL}
	}
	return nil
}

func (m *Minter) claims(ttl time.Duration) (Claims, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	// Truncating (never rounding) keeps iat from being in the future, which
	// Vonage refuses.
	iat := time.Unix(now().Unix(), 0).UTC()
	id, err := uuid.NewRandom()
	if err != nil {
		return Claims{}, fmt.Errorf("keys: generating jti: %w", err)
	}
	return Claims{
		ApplicationID: m.ApplicationID,
		IssuedAt:      iat,
		ExpiresAt:     iat.Add(ttl.Truncate(time.Second)),
		ID:            id.String(),
	}, nil
}

func (m *Minter) sign(c Claims) (string, Claims, error) {
	tok, err := m.Signer.Sign(c)
	if err != nil {
		return "", Claims{}, err
	}
	return tok, c, nil
}
