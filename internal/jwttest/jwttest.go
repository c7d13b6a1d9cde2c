// Package jwttest builds tokens byte for byte, for tests of what a verifier
// refuses: a header or claims set that a map cannot express (a member
// repeated, members in a chosen order) signed with a real key.
package jwttest

import (
	"crypto/rsa"
	"encoding/base64"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// SignRS256 returns the compact token whose header and claims are exactly
// the given JSON texts, signed RS256 with key.
func SignRS256(t testing.TB, key *rsa.PrivateKey, header, claims string) string {
	t.Helper()
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	sig, err := jwt.SigningMethodRS256.Sign(input, key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return input + "." + enc.EncodeToString(sig)
}
