package keys

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
)

// JWKSet is an RFC 7517 JSON Web Key Set, served at /.well-known/jwks.json
// so backend services can verify sdkauth's tokens without the private key.
type JWKSet struct {
	Keys []JWK `json:"keys"`
}

// JWK is the public half of one RSA signing key. Kid is its RFC 7638
// thumbprint, the same value the Signer puts in the token header.
type JWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// NewJWKSet returns the set describing pubs, in the order given. Nil keys
// are skipped. Keys is never nil, so the set marshals as {"keys":[]} rather
// than {"keys":null} when empty.
func NewJWKSet(pubs ...*rsa.PublicKey) JWKSet {
	set := JWKSet{Keys: make([]JWK, 0, len(pubs))}
	for _, pub := range pubs {
		if pub == nil {
			continue
		}
		n, e := jwkMembers(pub)
		set.Keys = append(set.Keys, JWK{Kty: "RSA", Use: "sig", Alg: "RS256", Kid: thumbprint(n, e), N: n, E: e})
	}
	return set
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of pub, base64url
// without padding. It is the kid of every token signed with the matching
// private key.
func Thumbprint(pub *rsa.PublicKey) string {
	return thumbprint(jwkMembers(pub))
}

func jwkMembers(pub *rsa.PublicKey) (n, e string) {
	eBytes := big.NewInt(int64(pub.E)).Bytes()
	return base64.RawURLEncoding.EncodeToString(pub.N.Bytes()), base64.RawURLEncoding.EncodeToString(eBytes)
}

func thumbprint(n, e string) string {
	// RFC 7638 §3.2: only the required members, in lexicographic order, with
	// no whitespace. n and e are base64url, so they need no JSON escaping.
	buf := make([]byte, 0, len(n)+len(e)+32)
	buf = append(buf, `{"e":"`...)
	buf = append(buf, e...)
	buf = append(buf, `","kty":"RSA","n":"`...)
	buf = append(buf, n...)
	buf = append(buf, `"}`...)
	sum := sha256.Sum256(buf)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PublicKey decodes the RSA public key that j describes. It returns an
// error when kty is not "RSA", when n or e is not base64url, or when the
// exponent is out of range.
func (j JWK) PublicKey() (*rsa.PublicKey, error) {
	if j.Kty != "RSA" {
		return nil, fmt.Errorf("%w: jwk kty is %q", ErrNotRSA, j.Kty)
	}
	n, err := base64.RawURLEncoding.DecodeString(j.N)
	if err != nil || len(n) == 0 {
		return nil, fmt.Errorf("%w: jwk n is not base64url", ErrBadKey)
	}
	e, err := base64.RawURLEncoding.DecodeString(j.E)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("%w: jwk e is not a base64url exponent", ErrBadKey)
	}
	exp := int(new(big.Int).SetBytes(e).Int64())
	if exp < 3 || exp%2 == 0 {
		return nil, fmt.Errorf("%w: jwk e = %d is not a valid RSA exponent", ErrBadKey, exp)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}
