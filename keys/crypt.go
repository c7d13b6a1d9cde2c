package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// EncryptionKeySize is the length of SDKAUTH_KEY_ENCRYPTION_KEY once
// decoded: an AES-256 key.
const EncryptionKeySize = 32

// ErrWrongEncryptionKey is returned by Cipher.Open when a sealed private
// key does not decrypt: it was sealed under another encryption key, for
// another kid, or it was altered.
var ErrWrongEncryptionKey = errors.New("keys: wrong key encryption key")

// sealVersion leads every sealed value, so that a later format (or a
// re-encryption under a new encryption key) can tell old rows apart.
const sealVersion = 1

// Cipher seals private keys for storage with AES-256-GCM. Each value gets
// its own random nonce, and the kid is bound in as additional data, so a
// ciphertext copied onto another key's row does not open. It is safe for
// concurrent use.
type Cipher struct {
	aead cipher.AEAD
}

// NewCipher returns a Cipher for a 32-byte key. It returns an error for
// any other length.
func NewCipher(key []byte) (*Cipher, error) {
	if len(key) != EncryptionKeySize {
		return nil, fmt.Errorf("keys: the key encryption key is %d bytes; it must be %d", len(key), EncryptionKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return &Cipher{aead: aead}, nil
}

// ParseEncryptionKey decodes SDKAUTH_KEY_ENCRYPTION_KEY: 32 bytes in
// standard or URL-safe base64, padded or not (what `openssl rand -base64
// 32` prints). The error says what was wrong without echoing the value.
func ParseEncryptionKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != EncryptionKeySize {
				return nil, fmt.Errorf("decodes to %d bytes; it must be %d (openssl rand -base64 32)", len(b), EncryptionKeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("is not base64 (openssl rand -base64 32)")
}

// NewEncryptionKey returns a fresh random key encryption key, base64
// encoded, for development and for `sdkauth keys generate`.
func NewEncryptionKey() string {
	b := make([]byte, EncryptionKeySize)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(b)
}

// Seal encrypts plaintext, binding it to kid.
func (c *Cipher) Seal(kid string, plaintext []byte) []byte {
	nonce := make([]byte, c.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := make([]byte, 0, 1+len(nonce)+len(plaintext)+c.aead.Overhead())
	out = append(out, sealVersion)
	out = append(out, nonce...)
	return c.aead.Seal(out, nonce, plaintext, []byte(kid))
}

// Open decrypts a value sealed for kid. It returns ErrWrongEncryptionKey
// when the value does not authenticate, and an error naming the format
// when it is not a sealed value at all.
func (c *Cipher) Open(kid string, sealed []byte) ([]byte, error) {
	ns := c.aead.NonceSize()
	if len(sealed) < 1+ns+c.aead.Overhead() || sealed[0] != sealVersion {
		return nil, fmt.Errorf("keys: the stored private key of %s is not in a known sealed format", kid)
	}
	out, err := c.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], []byte(kid))
	if err != nil {
		return nil, ErrWrongEncryptionKey
	}
	return out, nil
}
