package keys

import (
	"crypto/rsa"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestGoSignerHeader(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	s := NewGoSigner(key)
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
}

// TestGoSignerGolangJWTParses checks interoperability with the library that
// backend services are most likely to verify our tokens with.
func TestGoSignerGolangJWTParses(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	m := Minter{ApplicationID: testAppID, Signer: NewGoSigner(key)}
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
}

func TestGoSignerRejectsIncompleteClaims(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	s := NewGoSigner(key)
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
}

// TestGoSignerConcurrent is for the race detector: one Signer is shared by
// every request goroutine.
func TestGoSignerConcurrent(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	s := NewGoSigner(key)
	v := Verifier{ApplicationID: testAppID, Keys: func() []*rsa.PublicKey { return []*rsa.PublicKey{s.Public()} }}
	m := Minter{ApplicationID: testAppID, Signer: s}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acl := DefaultACL()
			if i%2 == 0 {
				acl = ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"GET"}}}}
			}
			for range 5 {
				tok, _, err := m.UserToken("user", acl, DefaultTTL)
				if err == nil {
					_, err = v.Verify(tok)
				}
				if err != nil {
					errs <- err
					return
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
