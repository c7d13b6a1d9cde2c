package keys

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sdkauth/sdkauth/internal/testkit"
)

const testAppID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

// testKeys returns two RSA-2048 keys shared by every test in the binary.
func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	return testkit.Key(t, 0), testkit.Key(t, 1)
}

// fixedNow is a whole second plus a fraction, so truncation shows.
var fixedNow = time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)

func nowFunc(t time.Time) func() time.Time { return func() time.Time { return t } }

// decodeSegment returns the JSON of one dot-separated part of a token.
func decodeSegment(t *testing.T, token string, i int) []byte {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("part %d is not base64url: %v", i, err)
	}
	return b
}

func decodeClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(decodeSegment(t, token, 1), &m); err != nil {
		t.Fatalf("payload is not JSON: %v", err)
	}
	return m
}

// forge signs arbitrary claims with golang-jwt, so that tests can build the
// tokens our own Signer refuses to produce.
func forge(t *testing.T, method jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("forging token: %v", err)
	}
	return s
}

// wantRefused fails t unless err is ErrInvalidToken with a reason that
// mentions why, so that a token refused for another reason than the case
// names does not pass.
func wantRefused(t *testing.T, err error, why string) {
	t.Helper()
	if !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrInvalidToken", err)
	}
	if !strings.Contains(err.Error(), why) {
		t.Fatalf("err = %q, want the reason to mention %q", err, why)
	}
}

// goodClaims are valid Vonage claims at fixedNow.
func goodClaims() jwt.MapClaims {
	iat := fixedNow.Unix()
	return jwt.MapClaims{
		"application_id": testAppID,
		"iat":            iat,
		"exp":            iat + 900,
		"jti":            "6f1c3c0e-5a3b-4c7e-9d2a-0b8e6f4a1c2d",
		"sub":            "new-user",
	}
}
