package keys

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
)

// FuzzParseACL: any input is refused with an *ACLError or parses to an ACL
// that validates and survives a JSON round trip unchanged.
func FuzzParseACL(f *testing.F) {
	for _, seed := range []string{
		`{"paths":{"/*/users/**":{},"/*/conversations/**":{"methods":["GET","POST"]}}}`,
		`{"paths":{"/v1/users":{"filters":{"a":1}}}}`,
		`{"paths":{}}`, `{"paths":{" ":{}}}`, `{"paths":{"/x":{"methods":["get"]}}}`,
		`{"paths":{"/x":{"methods":[]}}}`, `[]`, `null`, `{"paths":null}`, `{"paths":{"/x":null}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		acl, err := ParseACL(data)
		if err != nil {
			var ae *ACLError
			if !errors.As(err, &ae) || ae.Field == "" {
				t.Fatalf("%q: %v is not an *ACLError naming a field", data, err)
			}
			return
		}
		if err := acl.Validate(); err != nil {
			t.Fatalf("%q parsed to an ACL that does not validate: %v", data, err)
		}
		b, err := json.Marshal(acl)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseACL(b)
		if err != nil || !reflect.DeepEqual(normalise(again), normalise(acl)) {
			t.Fatalf("%q does not round-trip: %s → %+v, %v", data, b, again, err)
		}
	})
}

// normalise makes nil and empty method lists and filter maps compare equal.
func normalise(a ACL) ACL {
	out := ACL{Paths: map[string]ACLRule{}}
	for p, r := range a.Paths {
		if len(r.Methods) == 0 {
			r.Methods = nil
		}
		if len(r.Filters) == 0 {
			r.Filters = nil
		}
		out.Paths[p] = r
	}
	return out
}

// FuzzNarrow: narrowing never widens. Whatever a request asks, the result
// names only paths the policy allows, with methods among the policy's, and
// narrowing the result again changes nothing.
func FuzzNarrow(f *testing.F) {
	def, _ := json.Marshal(DefaultACL())
	f.Add(def, []byte(`{"paths":{"/*/users/**":{"methods":["GET"]}}}`))
	f.Add([]byte(`{"paths":{"/*/users/**":{"methods":["GET"]}}}`), []byte(`{"paths":{"/*/users/**":{}}}`))
	f.Add([]byte(`{"paths":{"/a":{"filters":{"x":1}}}}`), []byte(`{"paths":{"/a":{"filters":{"x":2}}}}`))
	f.Add(def, []byte(`{"paths":{"/*/anything/**":{}}}`))
	f.Fuzz(func(t *testing.T, policyJSON, reqJSON []byte) {
		policy, err := ParseACL(policyJSON)
		if err != nil {
			return
		}
		req, err := ParseACL(reqJSON)
		if err != nil {
			return
		}
		got, err := policy.Narrow(req)
		if err != nil {
			var ae *ACLError
			if !errors.As(err, &ae) {
				t.Fatalf("Narrow: %v is not an *ACLError", err)
			}
			return
		}
		for p, r := range got.Paths {
			allowed, ok := policy.Paths[p]
			if !ok {
				t.Fatalf("narrowed ACL names %q, which the policy does not", p)
			}
			if len(allowed.Methods) > 0 {
				if len(r.Methods) == 0 {
					t.Fatalf("%q: every method granted where the policy allows %v", p, allowed.Methods)
				}
				for _, m := range r.Methods {
					if !slices.Contains(allowed.Methods, m) {
						t.Fatalf("%q: %s granted beyond the policy's %v", p, m, allowed.Methods)
					}
				}
			}
			if len(allowed.Filters) > 0 && !reflect.DeepEqual(r.Filters, allowed.Filters) {
				t.Fatalf("%q: filters %v dropped or changed from the policy's %v", p, r.Filters, allowed.Filters)
			}
		}
		again, err := policy.Narrow(got)
		if err != nil || !reflect.DeepEqual(normalise(again), normalise(got)) {
			t.Fatalf("narrowing is not idempotent: %+v → %+v, %v", got, again, err)
		}
	})
}

// FuzzVerify: a bearer token string, however malformed, is refused with
// ErrInvalidToken or verifies (only a token signed with the key can).
func FuzzVerify(f *testing.F) {
	a, _ := testKeys(f)
	m := Minter{ApplicationID: testAppID, Signer: NewGoSigner(a), Now: nowFunc(fixedNow)}
	user, _, _ := m.UserToken("new-user", DefaultACL(), DefaultTTL)
	admin, _, _ := m.AdminToken(DefaultTTL, nil)
	for _, seed := range []string{user, admin, "", "a.b.c", "e30.e30.", user + "x", user[:len(user)-10],
		"eyJhbGciOiJub25lIn0.eyJhcHBsaWNhdGlvbl9pZCI6ImEifQ."} {
		f.Add(seed)
	}
	v := testVerifier(&a.PublicKey)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(token)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("%q: %v is not ErrInvalidToken", token, err)
			}
			return
		}
		checkAccepted(t, c)
	})
}

// FuzzVerifySigned signs whatever header and claims the fuzzer makes with
// the trusted key, so the verifier's own rules (not the signature) decide:
// an accepted token always meets them.
func FuzzVerifySigned(f *testing.F) {
	a, _ := testKeys(f)
	iat, exp := fixedNow.Unix(), fixedNow.Unix()+900
	claims := func(extra string) []byte {
		return []byte(`{"application_id":"` + testAppID + `","iat":` + itoa(iat) + `,"exp":` + itoa(exp) + `,"jti":"j"` + extra + `}`)
	}
	rs := []byte(`{"alg":"RS256","typ":"JWT"}`)
	f.Add(rs, claims(""))
	f.Add(rs, claims(`,"sub":"new-user","acl":{"paths":{"/*/users/**":{}}}`))
	f.Add([]byte(`{"alg":"HS256"}`), claims(""))
	f.Add([]byte(`{"alg":"none"}`), claims(""))
	f.Add([]byte(`{"alg":"RS256","crit":["exp"]}`), claims(""))
	f.Add(rs, []byte(`{"application_id":"x","iat":1,"exp":2}`))
	f.Add(rs, claims(`,"exp":99999999999`))
	v := testVerifier(&a.PublicKey)
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
		sum := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPKCS1v15(rand.Reader, a, crypto.SHA256, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(input + "." + base64.RawURLEncoding.EncodeToString(sig))
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("%v is not ErrInvalidToken", err)
			}
			return
		}
		var h map[string]any
		if json.Unmarshal(header, &h) != nil || h["alg"] != "RS256" {
			t.Fatalf("accepted a token whose header is %s", header)
		}
		checkAccepted(t, c)
	})
}

// checkAccepted holds a verified token to the rules Verify documents.
func checkAccepted(t *testing.T, c Claims) {
	t.Helper()
	switch {
	case c.ApplicationID != testAppID:
		t.Fatalf("accepted application_id %q", c.ApplicationID)
	case c.ID == "":
		t.Fatal("accepted a token without jti")
	case !fixedNow.Before(c.ExpiresAt):
		t.Fatalf("accepted a token that expired at %v", c.ExpiresAt)
	case c.IssuedAt.After(fixedNow.Add(IssuedAtLeeway)):
		t.Fatalf("accepted a token issued at %v", c.IssuedAt)
	case c.ExpiresAt.Sub(c.IssuedAt) > MaxTTL || !c.ExpiresAt.After(c.IssuedAt):
		t.Fatalf("accepted a lifetime %v..%v", c.IssuedAt, c.ExpiresAt)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
