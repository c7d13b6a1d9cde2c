package keys

import (
	"testing"
	"time"
)

// The Go signer's benchmarks are BenchmarkSign and BenchmarkSignParallel
// (bench_test.go); these are their OpenSSL counterparts, plus what the
// Minter adds around a signature. Compare with
//
//	go test -run '^$' -bench 'Sign|UserToken|Claims' -benchmem ./keys
//
// and with `openssl speed rsa2048` on the same machine.

func benchClaims() Claims {
	acl := DefaultACL()
	iat := time.Unix(time.Now().Unix(), 0)
	return Claims{ApplicationID: testAppID, Subject: "new-user", ACL: &acl, IssuedAt: iat, ExpiresAt: iat.Add(DefaultTTL),
		ID: "6f1c3c0e-5a3b-4c7e-9d2a-0b8e6f4a1c2d"}
}

func BenchmarkSignOpenSSL(b *testing.B) {
	key, _ := testKeys(b)
	s := opensslSignerOrSkip(b, key)
	c := benchClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignOpenSSLParallel is the in-process mint ceiling: one shared
// signer on every core, as the server uses it.
func BenchmarkSignOpenSSLParallel(b *testing.B) {
	key, _ := testKeys(b)
	s := opensslSignerOrSkip(b, key)
	c := benchClaims()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Sign(c); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkUserTokenOpenSSL is a whole mint as the token endpoint does it:
// ttl and ACL checks, claims with a fresh jti, and the signature.
func BenchmarkUserTokenOpenSSL(b *testing.B) {
	key, _ := testKeys(b)
	m := Minter{ApplicationID: testAppID, Signer: opensslSignerOrSkip(b, key)}
	acl := DefaultACL()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := m.UserToken("new-user", acl, DefaultTTL); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkMinterClaims is claim building without the signature: the clock
// and a random UUID v4 for jti.
func BenchmarkMinterClaims(b *testing.B) {
	m := Minter{ApplicationID: testAppID}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.claims(DefaultTTL); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkACLNarrow is the work a token request that narrows its ACL adds.
func BenchmarkACLNarrow(b *testing.B) {
	pol := DefaultACL()
	req := ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"GET"}}, "/*/conversations/**": {}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pol.Narrow(req); err != nil {
			b.Fatal(err)
		}
	}
}
