package keys

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// signerKind is one Signer implementation, for the tests every signer
// must pass.
type signerKind struct {
	name string
	new  func(*rsa.PrivateKey) (Signer, error)
}

// signerKinds lists every Signer implementation: the pure-Go one and the
// OpenSSL one. The OpenSSL one is left out, with a log line, only where it
// cannot run at all (no libcrypto 3, or CGO_ENABLED=0).
func signerKinds(t testing.TB) []signerKind {
	t.Helper()
	kinds := []signerKind{{"go", func(k *rsa.PrivateKey) (Signer, error) { return NewGoSigner(k), nil }}}
	if _, err := loadLibcrypto(); err != nil {
		t.Logf("OpenSSL signer not tested: %v", err)
		return kinds
	}
	return append(kinds, signerKind{"openssl", NewOpenSSLSigner})
}

// newTestSigner builds a signer of kind and closes it when t ends.
func newTestSigner(t testing.TB, kind signerKind, key *rsa.PrivateKey) Signer {
	t.Helper()
	s, err := kind.new(key)
	if err != nil {
		t.Fatalf("%s signer: %v", kind.name, err)
	}
	if c, ok := s.(io.Closer); ok {
		t.Cleanup(func() { c.Close() })
	}
	return s
}

// forEachSigner runs f as a subtest for every signer kind.
func forEachSigner(t *testing.T, f func(t *testing.T, kind signerKind)) {
	for _, kind := range signerKinds(t) {
		t.Run(kind.name, func(t *testing.T) { f(t, kind) })
	}
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

// manyClaims returns n distinct claims: the shapes of signerTestClaims
// with a different subject, jti and times each.
func manyClaims(n int) []Claims {
	shapes := make([]Claims, 0, 3)
	for _, c := range signerTestClaims() {
		shapes = append(shapes, c)
	}
	out := make([]Claims, n)
	for i := range out {
		c := shapes[i%len(shapes)]
		if c.Subject != "" {
			c.Subject = fmt.Sprintf("%s-%d", c.Subject, i)
		}
		c.ID = fmt.Sprintf("jti-%d", i)
		c.IssuedAt = c.IssuedAt.Add(time.Duration(i) * time.Second)
		c.ExpiresAt = c.ExpiresAt.Add(time.Duration(i) * time.Second)
		out[i] = c
	}
	return out
}

func TestSignerHeader(t *testing.T) {
	key, _ := testKeys(t)
	forEachSigner(t, func(t *testing.T, kind signerKind) {
		s := newTestSigner(t, kind, key)
		if s.KeyID() != Thumbprint(&key.PublicKey) {
			t.Fatalf("KeyID = %q, want the thumbprint", s.KeyID())
		}
		if !s.Public().Equal(&key.PublicKey) {
			t.Fatal("Public is not the key's public half")
		}
		m := Minter{ApplicationID: testAppID, Signer: s}
		tok, _, err := m.UserToken("new-user", DefaultACL(), DefaultTTL)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"alg":"RS256","typ":"JWT","kid":"` + s.KeyID() + `"}`
		if got := string(decodeSegment(t, tok, 0)); got != want {
			t.Fatalf("header = %s, want %s", got, want)
		}
	})
}

// TestSignerGolangJWTParses checks interoperability with the library that
// backend services are most likely to verify our tokens with.
func TestSignerGolangJWTParses(t *testing.T) {
	key, _ := testKeys(t)
	forEachSigner(t, func(t *testing.T, kind signerKind) {
		m := Minter{ApplicationID: testAppID, Signer: newTestSigner(t, kind, key)}
		acl := ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"GET"}}, "/*/rtc/**": {Filters: map[string]any{"a": "b"}}}}
		tok, c, err := m.UserToken("other-user <other-user@example.com>", acl, 2*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuedAt(), jwt.WithExpirationRequired())
		if err != nil {
			t.Fatalf("golang-jwt rejects our token: %v", err)
		}
		mc := parsed.Claims.(jwt.MapClaims)
		if mc["sub"] != "other-user <other-user@example.com>" || mc["application_id"] != testAppID || mc["jti"] != c.ID {
			t.Fatalf("claims = %v", mc)
		}
		if mc["iat"].(float64) != float64(c.IssuedAt.Unix()) || mc["exp"].(float64) != float64(c.ExpiresAt.Unix()) {
			t.Fatalf("iat/exp = %v/%v, want %d/%d", mc["iat"], mc["exp"], c.IssuedAt.Unix(), c.ExpiresAt.Unix())
		}
		paths := mc["acl"].(map[string]any)["paths"].(map[string]any)
		if len(paths) != 2 || paths["/*/rtc/**"].(map[string]any)["filters"].(map[string]any)["a"] != "b" {
			t.Fatalf("acl = %v", mc["acl"])
		}
	})
}

func TestSignerRejectsIncompleteClaims(t *testing.T) {
	key, _ := testKeys(t)
	forEachSigner(t, func(t *testing.T, kind signerKind) {
		s := newTestSigner(t, kind, key)
		iat := time.Unix(1700000000, 0)
		good := Claims{ApplicationID: testAppID, IssuedAt: iat, ExpiresAt: iat.Add(time.Minute), ID: "x"}
		if _, err := s.Sign(good); err != nil {
			t.Fatalf("good claims: %v", err)
		}
		for name, mutate := range map[string]func(*Claims){
			"no application_id": func(c *Claims) { c.ApplicationID = "" },
			"no jti":            func(c *Claims) { c.ID = "" },
			"no iat":            func(c *Claims) { c.IssuedAt = time.Time{} },
			"no exp":            func(c *Claims) { c.ExpiresAt = time.Time{} },
			"exp = iat":         func(c *Claims) { c.ExpiresAt = c.IssuedAt },
			"exp before iat":    func(c *Claims) { c.ExpiresAt = c.IssuedAt.Add(-time.Second) },
		} {
			c := good
			mutate(&c)
			if _, err := s.Sign(c); !errors.Is(err, ErrIncompleteClaims) {
				t.Errorf("%s: err = %v, want ErrIncompleteClaims", name, err)
			}
		}
	})
}

// TestSignersMatchTheGoSignerConcurrently relies on PKCS#1 v1.5 being
// deterministic: for the same key and claims every signer must emit the
// Go signer's bytes, so that switching SDKAUTH_SIGNER can never change
// what Vonage sees. One signer serves many goroutines at once, as in the
// server, which is also what the race detector and OpenSSL's own thread
// safety are checked with.
func TestSignersMatchTheGoSignerConcurrently(t *testing.T) {
	key, _ := testKeys(t)
	gos := NewGoSigner(key)
	claims := manyClaims(120)
	want := make([]string, len(claims))
	for i, c := range claims {
		var err error
		if want[i], err = gos.Sign(c); err != nil {
			t.Fatal(err)
		}
	}
	forEachSigner(t, func(t *testing.T, kind signerKind) {
		s := newTestSigner(t, kind, key)
		if s.KeyID() != gos.KeyID() || !s.Public().Equal(gos.Public()) {
			t.Fatalf("kid/public differ: %q vs %q", s.KeyID(), gos.KeyID())
		}
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for g := range 32 {
			wg.Go(func() {
				// Each goroutine starts at another claim, so different
				// tokens are in flight at once.
				for k := range len(claims) / 4 {
					i := (g*7 + k) % len(claims)
					tok, err := s.Sign(claims[i])
					if err == nil && tok != want[i] {
						err = fmt.Errorf("claims %d: token differs from the Go signer's:\n%s\n%s", i, tok, want[i])
					}
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

// TestSignersVerifyEachOther checks each signer's tokens against every
// signer's public key, with crypto/rsa directly, with golang-jwt (what
// backends verify with) and with our own Verifier.
func TestSignersVerifyEachOther(t *testing.T) {
	key, other := testKeys(t)
	var signers []Signer
	var names []string
	for _, kind := range signerKinds(t) {
		signers = append(signers, newTestSigner(t, kind, key))
		names = append(names, kind.name)
	}
	now := time.Now()
	iat := time.Unix(now.Unix(), 0)
	acl := DefaultACL()
	c := Claims{ApplicationID: testAppID, Subject: "new-user", ACL: &acl, IssuedAt: iat, ExpiresAt: iat.Add(DefaultTTL), ID: "jti-1"}
	for i, signer := range signers {
		for j, verify := range signers {
			t.Run(names[i]+" signs, "+names[j]+" key verifies", func(t *testing.T) {
				tok, err := signer.Sign(c)
				if err != nil {
					t.Fatal(err)
				}
				k := strings.LastIndexByte(tok, '.')
				sig, err := base64.RawURLEncoding.DecodeString(tok[k+1:])
				if err != nil {
					t.Fatal(err)
				}
				digest := sha256.Sum256([]byte(tok[:k]))
				if err := rsa.VerifyPKCS1v15(verify.Public(), crypto.SHA256, digest[:], sig); err != nil {
					t.Fatalf("crypto/rsa: %v", err)
				}
				if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return verify.Public(), nil },
					jwt.WithValidMethods([]string{"RS256"})); err != nil {
					t.Fatalf("golang-jwt: %v", err)
				}
				v := Verifier{ApplicationID: testAppID, Keys: func() []*rsa.PublicKey { return []*rsa.PublicKey{verify.Public()} },
					Now: nowFunc(now)}
				got, err := v.Verify(tok)
				if err != nil {
					t.Fatalf("Verifier: %v", err)
				}
				if got.Subject != "new-user" || got.ID != "jti-1" {
					t.Fatalf("claims = %+v", got)
				}
				if rsa.VerifyPKCS1v15(&other.PublicKey, crypto.SHA256, digest[:], sig) == nil {
					t.Fatal("signature verifies under an unrelated key")
				}
			})
		}
	}
}

func TestSignerFunc(t *testing.T) {
	key, _ := testKeys(t)
	_, opensslErr := loadLibcrypto()
	for _, mode := range []string{SignerAuto, "", SignerOpenSSL, SignerGo, "boringssl"} {
		newSigner, which, err := SignerFunc(mode)
		switch {
		case mode == "boringssl":
			if err == nil {
				t.Errorf("mode %q: no error", mode)
			}
			continue
		case mode == SignerOpenSSL && opensslErr != nil:
			if !errors.Is(err, ErrOpenSSLUnavailable) {
				t.Errorf("mode openssl: err = %v, want ErrOpenSSLUnavailable", err)
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
		if c, ok := s.(io.Closer); ok {
			defer c.Close()
		}
		wantOpenSSL := mode != SignerGo && opensslErr == nil
		wantPrefix := map[bool]string{true: "openssl (OpenSSL 3", false: "go (crypto/rsa"}[wantOpenSSL]
		if _, isGo := s.(*goSigner); isGo == wantOpenSSL || !strings.HasPrefix(which, wantPrefix) {
			t.Errorf("mode %q: which = %q, signer %T", mode, which, s)
		}
	}
}
