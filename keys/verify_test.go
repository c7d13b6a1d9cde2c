package keys

import (
	"crypto/rsa"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func testVerifier(pubs ...*rsa.PublicKey) *Verifier {
	return &Verifier{ApplicationID: testAppID, Keys: func() []*rsa.PublicKey { return pubs }, Now: nowFunc(fixedNow)}
}

func TestVerifyAcceptsMintedTokens(t *testing.T) {
	t.Parallel()
	a, b := testKeys(t)
	v := testVerifier(&a.PublicKey, &b.PublicKey)
	acl := ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"GET"}}}}
	for _, key := range []*rsa.PrivateKey{a, b} {
		m := Minter{ApplicationID: testAppID, Signer: NewGoSigner(key), Now: nowFunc(fixedNow)}
		tok, want, err := m.UserToken("new-user", acl, DefaultTTL)
		if err != nil {
			t.Fatal(err)
		}
		got, err := v.Verify(tok)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
			t.Fatalf("times = %v..%v, want %v..%v", got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt)
		}
		got.IssuedAt, got.ExpiresAt, want.IssuedAt, want.ExpiresAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("claims = %+v, want %+v", got, want)
		}
	}

	admin, _, err := (&Minter{ApplicationID: testAppID, Signer: NewGoSigner(a), Now: nowFunc(fixedNow)}).AdminToken(MinTTL, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(admin)
	if err != nil || c.Subject != "" || c.ACL != nil {
		t.Fatalf("admin token: %+v, %v", c, err)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	a, b := testKeys(t)
	kidA, kidB := Thumbprint(&a.PublicKey), Thumbprint(&b.PublicKey)
	with := func(mutate func(jwt.MapClaims)) jwt.MapClaims {
		c := goodClaims()
		mutate(c)
		return c
	}
	iat := fixedNow.Unix()
	good := forge(t, jwt.SigningMethodRS256, a, kidA, goodClaims())
	parts := strings.Split(good, ".")
	tamperedPayload := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(
		string(decodeSegment(t, good, 1)), `"sub":"new-user"`, `"sub":"other-user"`, 1)))

	tests := []struct {
		name  string
		token string
		keys  []*rsa.PublicKey // nil: key a only
		why   string
	}{
		{name: "alg none", token: forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, kidA, goodClaims()), why: "signing method"},
		{name: "alg none, no kid", token: forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", goodClaims()), why: "signing method"},
		{name: "HS256 keyed with the public key PEM", token: forge(t, jwt.SigningMethodHS256, EncodePublicKeyPEM(&a.PublicKey), kidA, goodClaims()), why: "signing method"},
		{name: "RS512", token: forge(t, jwt.SigningMethodRS512, a, kidA, goodClaims()), why: "signing method"},
		{name: "PS256", token: forge(t, jwt.SigningMethodPS256, a, kidA, goodClaims()), why: "signing method"},
		{name: "expired", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { c["iat"], c["exp"] = iat-900, iat })), why: "expired"},
		{name: "iat in the future", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { c["iat"], c["exp"] = iat+31, iat+900 })), why: "future"},
		{name: "wrong application_id", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { c["application_id"] = "other" })), why: "application_id"},
		{name: "no application_id", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { delete(c, "application_id") })), why: "application_id"},
		{name: "tampered payload", token: parts[0] + "." + tamperedPayload + "." + parts[2], why: "signature"},
		{name: "signed by another key under our kid", token: forge(t, jwt.SigningMethodRS256, b, kidA, goodClaims()), why: "signature"},
		{name: "signed by an unknown key, no kid", token: forge(t, jwt.SigningMethodRS256, b, "", goodClaims()), why: "signature"},
		{name: "unknown kid", token: forge(t, jwt.SigningMethodRS256, b, kidB, goodClaims()), why: "unknown kid"},
		{name: "no kid with two keys", token: forge(t, jwt.SigningMethodRS256, a, "", goodClaims()), keys: []*rsa.PublicKey{&a.PublicKey, &b.PublicKey}, why: "no kid"},
		{name: "no keys", token: good, keys: []*rsa.PublicKey{}, why: "unknown kid"},
		{name: "missing jti", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { delete(c, "jti") })), why: "jti"},
		{name: "empty jti", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { c["jti"] = "" })), why: "jti"},
		{name: "missing iat", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { delete(c, "iat") })), why: "iat"},
		{name: "missing exp", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { delete(c, "exp") })), why: "exp"},
		{name: "lifetime over 24h", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { c["exp"] = iat + 86401 })), why: "lifetime"},
		{name: "exp before iat", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { c["iat"], c["exp"] = iat+20, iat+10 })), why: "not after iat"},
		{name: "acl of the wrong type", token: forge(t, jwt.SigningMethodRS256, a, kidA, with(func(c jwt.MapClaims) { c["acl"] = "all" })), why: "invalid token"},
		{name: "not a JWT", token: "abc", why: "malformed"},
		{name: "empty", token: "", why: "malformed"},
		{name: "huge", token: strings.Repeat("a", 20000), why: "bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := tt.keys
			if keys == nil {
				keys = []*rsa.PublicKey{&a.PublicKey}
			}
			_, err := testVerifier(keys...).Verify(tt.token)
			wantRefused(t, err, tt.why)
		})
	}
}

func TestVerifyBoundaries(t *testing.T) {
	t.Parallel()
	a, _ := testKeys(t)
	kid := Thumbprint(&a.PublicKey)
	iat := fixedNow.Unix()
	tests := []struct {
		name     string
		iat, exp int64
		ok       bool
	}{
		{"iat within leeway", iat + 30, iat + 900, true},
		{"iat just past leeway", iat + 31, iat + 900, false},
		{"exp one second ahead", iat - 100, iat + 1, true},
		{"exp now", iat - 100, iat, false},
		{"lifetime exactly 24h", iat - 10, iat - 10 + 86400, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := goodClaims()
			c["iat"], c["exp"] = tt.iat, tt.exp
			// fixedNow has a fraction; verify against the whole second so the
			// boundaries are exact.
			v := testVerifier(&a.PublicKey)
			v.Now = nowFunc(time.Unix(iat, 0))
			_, err := v.Verify(forge(t, jwt.SigningMethodRS256, a, kid, c))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestVerifyNoKidSingleKey(t *testing.T) {
	t.Parallel()
	a, _ := testKeys(t)
	if _, err := testVerifier(&a.PublicKey).Verify(forge(t, jwt.SigningMethodRS256, a, "", goodClaims())); err != nil {
		t.Fatalf("no kid with one key: %v", err)
	}
}

// TestVerifyAsksAboutAnUnknownKey: a token signed with a key the verifier
// does not list yet is accepted once Unknown has reloaded the keys (a
// rotation this replica has not heard of), and refused when it has not.
func TestVerifyAsksAboutAnUnknownKey(t *testing.T) {
	t.Parallel()
	a, b := testKeys(t)
	m := Minter{ApplicationID: testAppID, Signer: NewGoSigner(b), Now: nowFunc(fixedNow)}
	tok, _, err := m.UserToken("new-user", DefaultACL(), DefaultTTL)
	if err != nil {
		t.Fatal(err)
	}
	for _, reloads := range []bool{false, true} {
		known := []*rsa.PublicKey{&a.PublicKey}
		var asked []string
		v := &Verifier{ApplicationID: testAppID, Now: nowFunc(fixedNow),
			Keys: func() []*rsa.PublicKey { return known },
			Unknown: func(kid string) bool {
				asked = append(asked, kid)
				if reloads {
					known = append(known, &b.PublicKey)
				}
				return reloads
			}}
		_, err := v.Verify(tok)
		if reloads != (err == nil) || len(asked) != 1 || asked[0] != Thumbprint(&b.PublicKey) {
			t.Errorf("reloads=%v: err %v, asked %v", reloads, err, asked)
		}
	}
}
