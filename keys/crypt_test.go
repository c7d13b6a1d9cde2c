package keys

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func testCipher(t testing.TB) *Cipher {
	t.Helper()
	b, err := ParseEncryptionKey(NewEncryptionKey())
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCipher(b)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCipherSealsPerKidWithFreshNonces(t *testing.T) {
	t.Parallel()
	c := testCipher(t)
	secret := []byte("the private key's DER")
	a, b := c.Seal("kid-1", secret), c.Seal("kid-1", secret)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same value are equal: the nonce is not fresh")
	}
	if bytes.Contains(a, secret) {
		t.Fatal("the sealed value contains the plaintext")
	}
	got, err := c.Open("kid-1", a)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := c.Open("kid-2", a); !errors.Is(err, ErrWrongEncryptionKey) {
		t.Fatalf("a value moved to another kid opened: %v", err)
	}
	if _, err := testCipher(t).Open("kid-1", a); !errors.Is(err, ErrWrongEncryptionKey) {
		t.Fatalf("another encryption key opened it: %v", err)
	}
	tampered := bytes.Clone(a)
	tampered[len(tampered)-1] ^= 1
	if _, err := c.Open("kid-1", tampered); !errors.Is(err, ErrWrongEncryptionKey) {
		t.Fatalf("a tampered value opened: %v", err)
	}
	if _, err := c.Open("kid-1", []byte("-----BEGIN PRIVATE KEY-----")); err == nil || errors.Is(err, ErrWrongEncryptionKey) {
		t.Fatalf("a value that was never sealed: %v", err)
	}
}

func TestParseEncryptionKey(t *testing.T) {
	t.Parallel()
	raw := bytes.Repeat([]byte{0xfb}, 32) // 0xfb makes + and / (or - and _) appear
	cases := []struct {
		name, in, err string
	}{
		{"standard", base64.StdEncoding.EncodeToString(raw), ""},
		{"standard with a newline", base64.StdEncoding.EncodeToString(raw) + "\n", ""},
		{"unpadded", base64.RawStdEncoding.EncodeToString(raw), ""},
		{"URL-safe", base64.URLEncoding.EncodeToString(raw), ""},
		{"too short", base64.StdEncoding.EncodeToString(raw[:16]), "16 bytes"},
		{"not base64", "correct horse battery staple!", "not base64"},
		{"empty", "", "0 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEncryptionKey(tc.in)
			if tc.err == "" {
				if err != nil || !bytes.Equal(got, raw) {
					t.Fatalf("got %x, %v", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			}
			if tc.in != "" && strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
				t.Fatal("the error echoes the secret")
			}
		})
	}
	if _, err := NewCipher(raw[:16]); err == nil {
		t.Fatal("NewCipher accepted a 16-byte key")
	}
}
