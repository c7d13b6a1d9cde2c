package keys

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken is the only error Verifier.Verify returns, wrapped with a
// reason. The reason is for logs; clients should be told no more than
// "invalid token", so that they learn nothing about which check failed.
var ErrInvalidToken = errors.New("invalid token")

// IssuedAtLeeway tolerates clocks of other replicas running slightly ahead.
const IssuedAtLeeway = 30 * time.Second

// maxTokenLen bounds the work an anonymous caller can make us do; the
// largest legitimate token (a big ACL) is a few kilobytes.
const maxTokenLen = 16 << 10

// rs256Parser pins the algorithm before any key is looked up, which is what
// defeats "alg":"none" and the HS256-with-the-public-key-as-secret attack.
// Claims are checked by Verify itself because the rules are Vonage's, not
// RFC 7519's defaults (iat is required; nbf is never used).
var rs256Parser = jwt.NewParser(
	jwt.WithValidMethods([]string{"RS256"}),
	jwt.WithoutClaimsValidation(),
	jwt.WithStrictDecoding(),
)

// Verifier checks bearer tokens presented to sdkauth's own endpoints: the
// tokens sdkauth itself minted. It is safe for concurrent use.
type Verifier struct {
	ApplicationID string
	// Keys returns the public keys currently trusted: the active key and
	// those retired recently enough that tokens signed with them may still
	// be alive.
	Keys func() []*rsa.PublicKey
	// Key, when set, finds the key a kid names in place of a search of
	// Keys, which works out each key's thumbprint on every call
	// (Ring.VerifyKey). Keys is still asked for a token without a kid.
	Key func(kid string) *rsa.PublicKey
	// Unknown, when set, is called with a kid that Keys does not list: a
	// replica may meet a token of a rotation it has not heard of yet. It may
	// reload the keys, and reports whether Keys should be asked again.
	Unknown func(kid string) bool
	Now     func() time.Time // nil means time.Now
}

// Verify parses token, checks its RS256 signature against the key named by
// its kid (or the only key, when there is no kid and exactly one key), and
// refuses a header or claims set that repeats a member name, a header with
// crit and a claim name spelled in another case (see checkSegments), and
// checks the claims: application_id equal to v.ApplicationID, iat present
// and not more than IssuedAtLeeway in the future, exp present and not
// passed, exp-iat at most MaxTTL, and jti present. It returns the claims.
//
// Every failure is ErrInvalidToken wrapped with the reason.
func (v *Verifier) Verify(token string) (Claims, error) {
	if len(token) > maxTokenLen {
		return Claims{}, invalid("token is %d bytes long", len(token))
	}
	if err := checkSegments(token); err != nil {
		return Claims{}, invalid("%v", err)
	}
	var wc wireClaims
	if _, err := rs256Parser.ParseWithClaims(token, &wc, v.keyFor); err != nil {
		return Claims{}, invalid("%v", err)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	switch {
	case wc.ApplicationID != v.ApplicationID:
		return Claims{}, invalid("application_id %q is not ours", wc.ApplicationID)
	case wc.IssuedAt == nil:
		return Claims{}, invalid("iat is missing")
	case wc.ExpiresAt == nil:
		return Claims{}, invalid("exp is missing")
	case wc.ID == "":
		return Claims{}, invalid("jti is missing")
	case wc.IssuedAt.Time.After(t.Add(IssuedAtLeeway)):
		return Claims{}, invalid("iat %d is in the future", wc.IssuedAt.Unix())
	case !t.Before(wc.ExpiresAt.Time):
		return Claims{}, invalid("expired at %d", wc.ExpiresAt.Unix())
	case !wc.ExpiresAt.Time.After(wc.IssuedAt.Time):
		return Claims{}, invalid("exp is not after iat")
	case wc.ExpiresAt.Sub(wc.IssuedAt.Time) > MaxTTL:
		return Claims{}, invalid("lifetime %s exceeds %s", wc.ExpiresAt.Sub(wc.IssuedAt.Time), MaxTTL)
	}
	return Claims{
		ApplicationID: wc.ApplicationID,
		Subject:       wc.Subject,
		ACL:           wc.ACL,
		IssuedAt:      wc.IssuedAt.Time,
		ExpiresAt:     wc.ExpiresAt.Time,
		ID:            wc.ID,
	}, nil
}

func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	raw, hasKid := t.Header["kid"]
	if !hasKid {
		var keys []*rsa.PublicKey
		if v.Keys != nil {
			keys = v.Keys()
		}
		if len(keys) != 1 {
			return nil, fmt.Errorf("no kid and %d known keys", len(keys))
		}
		return keys[0], nil
	}
	kid, ok := raw.(string)
	if !ok {
		return nil, errors.New("kid is not a string")
	}
	find := func() *rsa.PublicKey {
		if v.Key != nil {
			return v.Key(kid)
		}
		if v.Keys == nil {
			return nil
		}
		return keyWithID(v.Keys(), kid)
	}
	if k := find(); k != nil {
		return k, nil
	}
	if v.Unknown != nil && v.Unknown(kid) {
		if k := find(); k != nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

// keyWithID returns the key among keys whose RFC 7638 thumbprint is kid,
// or nil.
func keyWithID(keys []*rsa.PublicKey, kid string) *rsa.PublicKey {
	for _, k := range keys {
		if k != nil && Thumbprint(k) == kid {
			return k
		}
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidToken}, args...)...)
}

// wireClaims is the JSON shape of the claims; it implements jwt.Claims only
// so the parser accepts it, since claims validation is done by Verify.
type wireClaims struct {
	ApplicationID string           `json:"application_id"`
	Subject       string           `json:"sub"`
	ACL           *ACL             `json:"acl"`
	IssuedAt      *jwt.NumericDate `json:"iat"`
	ExpiresAt     *jwt.NumericDate `json:"exp"`
	ID            string           `json:"jti"`
}

func (c *wireClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt, nil }
func (c *wireClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt, nil }
func (c *wireClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *wireClaims) GetIssuer() (string, error)                   { return "", nil }
func (c *wireClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *wireClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }
