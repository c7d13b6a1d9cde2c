package keys

import (
	"crypto/rsa"
	"testing"
	"time"
)

// BenchmarkPayload isolates the claims encoding from the RSA operation.
func BenchmarkPayload(b *testing.B) {
	acl := DefaultACL()
	iat := time.Unix(1700000000, 0)
	c := Claims{ApplicationID: testAppID, Subject: "new-user", ACL: &acl, IssuedAt: iat, ExpiresAt: iat.Add(DefaultTTL),
		ID: "6f1c3c0e-5a3b-4c7e-9d2a-0b8e6f4a1c2d"}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = appendPayload(buf[:0], &c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	key, _ := testKeys(b)
	m := Minter{ApplicationID: testAppID, Signer: NewGoSigner(key)}
	tok, _, err := m.UserToken("new-user", DefaultACL(), DefaultTTL)
	if err != nil {
		b.Fatal(err)
	}
	v := Verifier{ApplicationID: testAppID, Keys: func() []*rsa.PublicKey { return []*rsa.PublicKey{&key.PublicKey} }}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkACLValidate(b *testing.B) {
	acl := DefaultACL()
	acl.Paths["/*/conversations/**"] = ACLRule{Methods: []string{"GET", "POST", "PATCH"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := acl.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
