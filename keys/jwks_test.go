package keys

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
)

// rfc7638Key is the example key of RFC 7638 §3.1.
func rfc7638Key(t *testing.T) *rsa.PublicKey {
	t.Helper()
	n, err := base64.RawURLEncoding.DecodeString("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
	if err != nil {
		t.Fatal(err)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
}

func TestThumbprintRFC7638(t *testing.T) {
	t.Parallel()
	if got, want := Thumbprint(rfc7638Key(t)), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Fatalf("Thumbprint = %s, want %s", got, want)
	}
}

func TestNewJWKSet(t *testing.T) {
	t.Parallel()
	a, b := testKeys(t)
	set := NewJWKSet(&a.PublicKey, nil, &b.PublicKey)
	if len(set.Keys) != 2 {
		t.Fatalf("set has %d keys, want 2 (nil skipped)", len(set.Keys))
	}
	for i, pub := range []*rsa.PublicKey{&a.PublicKey, &b.PublicKey} {
		k := set.Keys[i]
		if k.Kty != "RSA" || k.Use != "sig" || k.Alg != "RS256" || k.E != "AQAB" {
			t.Fatalf("key %d = %+v", i, k)
		}
		if k.Kid != Thumbprint(pub) {
			t.Fatalf("key %d kid = %s, want thumbprint %s", i, k.Kid, Thumbprint(pub))
		}
		back, err := k.PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if !back.Equal(pub) {
			t.Fatalf("key %d does not round-trip", i)
		}
	}

	rfc := NewJWKSet(rfc7638Key(t))
	b2, err := json.Marshal(rfc)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(b2, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 1 || len(raw.Keys[0]) != 6 || raw.Keys[0]["kid"] != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" ||
		raw.Keys[0]["n"][:8] != "0vx7agoe" {
		t.Fatalf("jwks = %s", b2)
	}

	empty, _ := json.Marshal(NewJWKSet())
	if string(empty) != `{"keys":[]}` {
		t.Fatalf("empty set = %s, want {\"keys\":[]}", empty)
	}
}

func TestJWKPublicKeyRejects(t *testing.T) {
	t.Parallel()
	for name, k := range map[string]JWK{
		"EC":        {Kty: "EC", N: "AQAB", E: "AQAB"},
		"bad n":     {Kty: "RSA", N: "!!", E: "AQAB"},
		"empty n":   {Kty: "RSA", N: "", E: "AQAB"},
		"bad e":     {Kty: "RSA", N: "AQAB", E: "!!"},
		"even e":    {Kty: "RSA", N: "AQAB", E: "AQA"},
		"e too big": {Kty: "RSA", N: "AQAB", E: "AQIDBAU"},
	} {
		if _, err := k.PublicKey(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
