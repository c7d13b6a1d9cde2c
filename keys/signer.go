package keys

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Signer turns claims into a compact RS256 JWT whose header is exactly
// {"alg":"RS256","typ":"JWT","kid":"<thumbprint>"}. Implementations are
// safe for concurrent use and do no per-call key parsing; the pure-Go one
// is NewGoSigner, and any other (such as one backed by OpenSSL) must
// produce tokens that verify with the same public key.
type Signer interface {
	// Sign returns the token for c. It fails when c lacks application_id,
	// jti, iat or exp, or when exp is not after iat.
	Sign(c Claims) (string, error)
	// KeyID returns the RFC 7638 thumbprint used as kid.
	KeyID() string
	// Public returns the public key that verifies the tokens.
	Public() *rsa.PublicKey
}

// ErrIncompleteClaims is returned by Sign for claims Vonage would refuse.
var ErrIncompleteClaims = errors.New("keys: incomplete claims")

type goSigner struct {
	key *rsa.PrivateKey
	kid string
	// header is the base64url-encoded header followed by '.', the fixed
	// prefix of every signing input.
	header string
}

// NewGoSigner returns a Signer using crypto/rsa (PKCS#1 v1.5, SHA-256). It
// precomputes k's CRT values, which mutates k; without them every
// signature would redo that work. k must be a valid key, as
// ParsePrivateKeyPEM and GenerateKey return; a nil k panics.
func NewGoSigner(k *rsa.PrivateKey) Signer {
	k.Precompute()
	kid := Thumbprint(&k.PublicKey)
	return &goSigner{key: k, kid: kid, header: encodedHeader(kid)}
}

// encodedHeader returns the base64url header for kid followed by '.'. The
// member order alg, typ, kid is fixed because some verifiers (and tests)
// compare headers textually.
func encodedHeader(kid string) string {
	h := `{"alg":"RS256","typ":"JWT","kid":` + string(appendJSONString(nil, kid)) + `}`
	return base64.RawURLEncoding.EncodeToString([]byte(h)) + "."
}

func (s *goSigner) KeyID() string          { return s.kid }
func (s *goSigner) Public() *rsa.PublicKey { return &s.key.PublicKey }

// signBuffers are reused between calls so that a signature costs only the
// allocations of the token string and of crypto/rsa itself.
type signBuffers struct {
	payload []byte
	out     []byte
}

var signPool = sync.Pool{New: func() any {
	return &signBuffers{payload: make([]byte, 0, 1024), out: make([]byte, 0, 2048)}
}}

// maxPooled keeps one huge ACL from pinning a huge buffer in the pool.
const maxPooled = 64 << 10

func (s *goSigner) Sign(c Claims) (string, error) { return sign(c, s.header, s) }

func (s *goSigner) signDigest(digest []byte) ([]byte, error) {
	sig, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, digest)
	if err != nil {
		return nil, fmt.Errorf("keys: signing: %w", err)
	}
	return sig, nil
}

// digestSigner is the one step that differs between signers: the RSA
// PKCS#1 v1.5 signature of a SHA-256 digest.
type digestSigner interface {
	signDigest(digest []byte) ([]byte, error)
}

// sign builds the compact JWT every Signer emits: header, the
// reflection-free payload, and the signature over their SHA-256 (hashed in
// Go, where it costs less than a cgo call), in pooled buffers.
func sign(c Claims, header string, r digestSigner) (string, error) {
	if err := checkClaims(&c); err != nil {
		return "", err
	}
	b := signPool.Get().(*signBuffers)
	defer func() {
		if cap(b.payload) <= maxPooled && cap(b.out) <= maxPooled {
			signPool.Put(b)
		}
	}()
	var err error
	if b.payload, err = appendPayload(b.payload[:0], &c); err != nil {
		return "", fmt.Errorf("keys: encoding acl: %w", err)
	}
	out := append(b.out[:0], header...)
	out = base64.RawURLEncoding.AppendEncode(out, b.payload)
	digest := sha256.Sum256(out)
	sig, err := r.signDigest(digest[:])
	if err != nil {
		return "", err
	}
	out = append(out, '.')
	out = base64.RawURLEncoding.AppendEncode(out, sig)
	b.out = out
	return string(out), nil
}

func checkClaims(c *Claims) error {
	switch {
	case c.ApplicationID == "":
		return fmt.Errorf("%w: application_id is empty", ErrIncompleteClaims)
	case c.ID == "":
		return fmt.Errorf("%w: jti is empty", ErrIncompleteClaims)
	case c.IssuedAt.IsZero() || c.ExpiresAt.IsZero():
		return fmt.Errorf("%w: iat and exp are required", ErrIncompleteClaims)
	case c.ExpiresAt.Unix() <= c.IssuedAt.Unix():
		return fmt.Errorf("%w: exp is not after iat", ErrIncompleteClaims)
	}
	return nil
}

// TokenKeyID returns the kid in a compact JWT's header, or "" when it has
// none or the token does not decode. It verifies nothing.
func TokenKeyID(token string) string {
	header, _, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	var h struct {
		KID string `json:"kid"`
	}
	if _, err := decodePart(header, &h); err != nil {
		return ""
	}
	return h.KID
}
