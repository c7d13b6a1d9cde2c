package keys

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func TestParsePrivateKeyPEM(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pkcs8 := EncodePrivateKeyPEM(key)

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalECPrivateKey(ecKey)
	ec8DER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ed8DER, _ := x509.MarshalPKCS8PrivateKey(edKey)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, _ := x509.MarshalPKCS8PrivateKey(small)

	oneLine := strings.ReplaceAll(strings.TrimSpace(string(pkcs8)), "\n", `\n`)

	tests := []struct {
		name    string
		in      []byte
		wantErr error
		wantMsg string
	}{
		{name: "PKCS#1", in: pkcs1},
		{name: "PKCS#8", in: pkcs8},
		{name: "escaped newlines in one line", in: []byte(oneLine)},
		{name: "escaped newlines, quoted", in: []byte(`"` + oneLine + `"`)},
		{name: "CRLF line endings", in: []byte(strings.ReplaceAll(string(pkcs8), "\n", "\r\n"))},
		{name: "after a certificate-like block", in: append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), pkcs8...)},
		{name: "garbage", in: []byte("not a key at all"), wantErr: ErrNotPEM, wantMsg: "no \"-----BEGIN"},
		{name: "empty", in: nil, wantErr: ErrNotPEM},
		{name: "public key only", in: EncodePublicKeyPEM(&key.PublicKey), wantErr: ErrNotPEM, wantMsg: `"PUBLIC KEY"`},
		{name: "EC key (SEC 1)", in: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), wantErr: ErrNotRSA, wantMsg: "EC PRIVATE KEY"},
		{name: "EC key (PKCS#8)", in: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ec8DER}), wantErr: ErrNotRSA, wantMsg: "an EC key"},
		{name: "Ed25519 key", in: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ed8DER}), wantErr: ErrNotRSA, wantMsg: "Ed25519"},
		{name: "1024-bit RSA", in: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: smallDER}), wantErr: ErrKeyTooSmall, wantMsg: "1024 bits; need at least 2048"},
		{name: "encrypted PKCS#8", in: pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2}}), wantErr: ErrEncryptedKey},
		{name: "encrypted PKCS#1", in: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}}), wantErr: ErrEncryptedKey},
		{name: "corrupt DER", in: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}), wantErr: ErrBadKey, wantMsg: "PKCS#8 key does not parse"},
		{name: "PKCS#1 labelled PKCS#8", in: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), wantErr: ErrBadKey, wantMsg: "relabel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrivateKeyPEM(tt.in)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !got.Equal(key) {
					t.Fatal("parsed key differs from the original")
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParsePublicKeyPEM(t *testing.T) {
	t.Parallel()
	key, _ := testKeys(t)
	pkix := EncodePublicKeyPEM(&key.PublicKey)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	escaped := strings.ReplaceAll(string(pkix), "\n", `\n`)
	for name, in := range map[string][]byte{"PKIX": pkix, "PKCS#1": pkcs1, "escaped": []byte(escaped)} {
		got, err := ParsePublicKeyPEM(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !got.Equal(&key.PublicKey) {
			t.Fatalf("%s: parsed key differs", name)
		}
	}
	if _, err := ParsePublicKeyPEM(EncodePrivateKeyPEM(key)); !errors.Is(err, ErrNotPEM) {
		t.Fatalf("private key given: err = %v, want ErrNotPEM", err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if _, err := ParsePublicKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})); !errors.Is(err, ErrNotRSA) {
		t.Fatalf("EC public key: err = %v, want ErrNotRSA", err)
	}
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if k.N.BitLen() != 2048 {
		t.Fatalf("key is %d bits, want 2048", k.N.BitLen())
	}
	back, err := ParsePrivateKeyPEM(EncodePrivateKeyPEM(k))
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(k) {
		t.Fatal("PKCS#8 round trip changed the key")
	}
	if !strings.HasPrefix(string(EncodePrivateKeyPEM(k)), "-----BEGIN PRIVATE KEY-----\n") {
		t.Fatal("private key is not PKCS#8 PEM")
	}
	if !strings.HasPrefix(string(EncodePublicKeyPEM(&k.PublicKey)), "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatal("public key is not PKIX PEM")
	}
}
