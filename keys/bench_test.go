package keys

import (
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
	// As the server verifies: a ring with the active key and a previous
	// one, its kid found by a search of VerifyKeys or by VerifyKey.
	other, _ := testKeys(b)
	r := &Ring{}
	r.Set(NewGoSigner(key), []PreviousKey{{Public: &other.PublicKey, ExpiresAt: time.Now().Add(time.Hour)}})
	for _, c := range []struct {
		name string
		v    Verifier
	}{
		{"search_of_VerifyKeys", Verifier{ApplicationID: testAppID, Keys: r.VerifyKeys}},
		{"VerifyKey", Verifier{ApplicationID: testAppID, Keys: r.VerifyKeys, Key: r.VerifyKey}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.v.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
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
