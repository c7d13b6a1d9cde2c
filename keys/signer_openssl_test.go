package keys

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// opensslSignerOrSkip returns the OpenSSL signer for key, skipping the test
// only where OpenSSL cannot run at all (no libcrypto 3, or CGO_ENABLED=0).
func opensslSignerOrSkip(t testing.TB, key *rsa.PrivateKey) Signer {
	t.Helper()
	s, err := NewOpenSSLSigner(key)
	if errors.Is(err, ErrOpenSSLUnavailable) {
		t.Skipf("OpenSSL signer unavailable here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signerTestClaims covers every shape of payload the encoder produces.
func signerTestClaims() map[string]Claims {
	iat := time.Unix(1700000000, 0)
	acl := DefaultACL()
	return map[string]Claims{
		"user, default acl": {ApplicationID: testAppID, Subject: "new-user", ACL: &acl, IssuedAt: iat, ExpiresAt: iat.Add(DefaultTTL),
			ID: "6f1c3c0e-5a3b-4c7e-9d2a-0b8e6f4a1c2d"},
		"admin, no acl": {ApplicationID: testAppID, IssuedAt: iat, ExpiresAt: iat.Add(MaxTTL), ID: "0b8e6f4a-1c2d-4c7e-9d2a-6f1c3c0e5a3b"},
		"user, narrowed acl with filters": {ApplicationID: testAppID, Subject: "other-user <o&u> ünïcode\u2028",
			ACL: &ACL{Paths: map[string]ACLRule{
				"/*/users/**":         {Methods: []string{"GET", "PATCH"}},
				"/*/conversations/**": {Methods: []string{"GET"}, Filters: map[string]any{"type": "chat", "n": 2}},
				"/*/rtc/**":           {},
			}},
			IssuedAt: iat, ExpiresAt: iat.Add(MinTTL), ID: "x"},
	}
}

// TestOpenSSLSignerMatchesGoSigner relies on PKCS#1 v1.5 being deterministic:
// for the same key and claims the two signers must emit the same bytes, so
// that switching SDKAUTH_SIGNER can never change what Vonage sees.
func TestOpenSSLSignerMatchesGoSigner(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	ossl := opensslSignerOrSkip(t, key)
	gos := NewGoSigner(key)
	if ossl.KeyID() != gos.KeyID() || !ossl.Public().Equal(gos.Public()) {
		t.Fatalf("kid/public differ: %q vs %q", ossl.KeyID(), gos.KeyID())
	}
	for name, c := range signerTestClaims() {
		t.Run(name, func(t *testing.T) {
			a, err := ossl.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			b, err := gos.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			if a != b {
				t.Fatalf("tokens differ:\nopenssl %s\ngo      %s", a, b)
			}
		})
	}
}

// TestSignersVerifyEachOther checks each signer's tokens against the other
// signer's public key, with crypto/rsa directly, with golang-jwt (what
// backends verify with) and with our own Verifier.
func TestSignersVerifyEachOther(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	ossl := opensslSignerOrSkip(t, key)
	gos := NewGoSigner(key)
	now := time.Now()
	iat := time.Unix(now.Unix(), 0)
	acl := DefaultACL()
	c := Claims{ApplicationID: testAppID, Subject: "new-user", ACL: &acl, IssuedAt: iat, ExpiresAt: iat.Add(DefaultTTL), ID: "jti-1"}
	for _, pair := range []struct {
		name           string
		signer, verify Signer
	}{{"openssl signs, go key verifies", ossl, gos}, {"go signs, openssl key verifies", gos, ossl}} {
		t.Run(pair.name, func(t *testing.T) {
			tok, err := pair.signer.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			i := strings.LastIndexByte(tok, '.')
			sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256([]byte(tok[:i]))
			if err := rsa.VerifyPKCS1v15(pair.verify.Public(), crypto.SHA256, digest[:], sig); err != nil {
				t.Fatalf("crypto/rsa: %v", err)
			}
			if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pair.verify.Public(), nil },
				jwt.WithValidMethods([]string{"RS256"})); err != nil {
				t.Fatalf("golang-jwt: %v", err)
			}
			v := Verifier{ApplicationID: testAppID, Keys: func() []*rsa.PublicKey { return []*rsa.PublicKey{pair.verify.Public()} },
				Now: nowFunc(now)}
			got, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verifier: %v", err)
			}
			if got.Subject != "new-user" || got.ID != "jti-1" {
				t.Fatalf("claims = %+v", got)
			}
			// A signature by the other key of the pair must not verify.
			_, other := testKeys(t)
			if rsa.VerifyPKCS1v15(&other.PublicKey, crypto.SHA256, digest[:], sig) == nil {
				t.Fatal("signature verifies under an unrelated key")
			}
		})
	}
}

func TestOpenSSLSignerRejectsIncompleteClaims(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	s := opensslSignerOrSkip(t, key)
	iat := time.Unix(1700000000, 0)
	good := Claims{ApplicationID: testAppID, IssuedAt: iat, ExpiresAt: iat.Add(time.Minute), ID: "x"}
	if _, err := s.Sign(good); err != nil {
		t.Fatalf("good claims: %v", err)
	}
	for name, mutate := range map[string]func(*Claims){
		"no application_id": func(c *Claims) { c.ApplicationID = "" },
		"no jti":            func(c *Claims) { c.ID = "" },
		"no exp":            func(c *Claims) { c.ExpiresAt = time.Time{} },
		"exp before iat":    func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(-time.Second) },
	} {
		c := good
		mutate(&c)
		if _, err := s.Sign(c); !errors.Is(err, ErrIncompleteClaims) {
			t.Errorf("%s: err = %v, want ErrIncompleteClaims", name, err)
		}
	}
}

// TestOpenSSLSignerConcurrent is for the race detector and for OpenSSL's own
// thread safety: one signer serves every request goroutine, and each token
// must still be exactly the Go signer's.
func TestOpenSSLSignerConcurrent(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	ossl := opensslSignerOrSkip(t, key)
	gos := NewGoSigner(key)
	claims := signerTestClaims()
	want := map[string]string{}
	for name, c := range claims {
		tok, err := gos.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		want[name] = tok
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 4 {
				for name, c := range claims {
					tok, err := ossl.Sign(c)
					if err == nil && tok != want[name] {
						err = errors.New(name + ": token differs from the Go signer's")
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestNewSigner(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	_, opensslErr := NewOpenSSLSigner(key)
	for _, tc := range []struct {
		mode       string
		wantPrefix string // of which; "" = an error is expected
	}{
		{SignerGo, "go (crypto/rsa)"},
		{SignerAuto, map[bool]string{true: "openssl (OpenSSL 3", false: "go (crypto/rsa; OpenSSL not used: "}[opensslErr == nil]},
		{"", map[bool]string{true: "openssl (OpenSSL 3", false: "go (crypto/rsa; OpenSSL not used: "}[opensslErr == nil]},
		{SignerOpenSSL, map[bool]string{true: "openssl (OpenSSL 3", false: ""}[opensslErr == nil]},
		{"boringssl", ""},
	} {
		s, which, err := NewSigner(key, tc.mode)
		if tc.wantPrefix == "" {
			if err == nil {
				t.Errorf("mode %q: no error", tc.mode)
			}
			if tc.mode == SignerOpenSSL && !errors.Is(err, ErrOpenSSLUnavailable) {
				t.Errorf("mode openssl: err = %v, want ErrOpenSSLUnavailable", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("mode %q: %v", tc.mode, err)
			continue
		}
		if !strings.HasPrefix(which, tc.wantPrefix) {
			t.Errorf("mode %q: which = %q, want prefix %q", tc.mode, which, tc.wantPrefix)
		}
		_, isGo := s.(*goSigner)
		if isGo == strings.HasPrefix(which, "openssl") {
			t.Errorf("mode %q: which = %q but signer is %T", tc.mode, which, s)
		}
	}
}

func TestSignerFunc(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	_, opensslErr := NewOpenSSLSigner(key)
	for _, mode := range []string{SignerAuto, SignerOpenSSL, SignerGo, "nope"} {
		newSigner, which, err := SignerFunc(mode)
		switch {
		case mode == "nope" || (mode == SignerOpenSSL && opensslErr != nil):
			if err == nil {
				t.Errorf("mode %q: no error", mode)
			}
			continue
		case err != nil:
			t.Errorf("mode %q: %v", mode, err)
			continue
		}
		s, err := newSigner(key)
		if err != nil {
			t.Errorf("mode %q: building: %v", mode, err)
			continue
		}
		wantOpenSSL := mode != SignerGo && opensslErr == nil
		if _, isGo := s.(*goSigner); isGo == wantOpenSSL || strings.HasPrefix(which, "openssl") != wantOpenSSL {
			t.Errorf("mode %q: which = %q, signer %T", mode, which, s)
		}
	}
}
