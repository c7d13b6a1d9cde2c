package keys

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// MinKeyBits is the smallest RSA modulus accepted for the application key.
const MinKeyBits = 2048

// Errors returned (wrapped, with the detail of what was found) by
// ParsePrivateKeyPEM and ParsePublicKeyPEM, so callers can branch on the kind
// of problem while people read the detail.
var (
	ErrNotPEM       = errors.New("keys: not PEM")
	ErrNotRSA       = errors.New("keys: not an RSA key")
	ErrKeyTooSmall  = errors.New("keys: RSA key too small")
	ErrEncryptedKey = errors.New("keys: encrypted private keys are not supported")
	ErrBadKey       = errors.New("keys: malformed key")
)

// ParsePrivateKeyPEM parses the application's private key from PEM: PKCS#8
// ("PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY"), RSA only, at least
// MinKeyBits bits. Blocks that are not private keys (a certificate, a public
// key) are skipped. Because keys pasted into a one-line environment variable
// often carry literal "\n" sequences instead of line breaks, those are
// turned back into line breaks when the input has no real ones.
//
// The errors wrap ErrNotPEM (no PEM block, or no private key block among
// them), ErrEncryptedKey (a passphrase-protected key), ErrNotRSA (an EC or
// Ed25519 key), ErrKeyTooSmall, or ErrBadKey (the DER does not parse or the
// key is inconsistent), and say what was found.
func ParsePrivateKeyPEM(pemBytes []byte) (*rsa.PrivateKey, error) {
	var seen []string
	for _, block := range pemBlocks(pemBytes) {
		switch block.Type {
		case "RSA PRIVATE KEY", "PRIVATE KEY":
			return parsePrivateBlock(block)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%w: found an %q block; decrypt it first (openssl pkey -in key.pem -out plain.pem)", ErrEncryptedKey, block.Type)
		case "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY":
			return nil, fmt.Errorf("%w: found an %q block; the Vonage application key is RSA", ErrNotRSA, block.Type)
		}
		seen = append(seen, block.Type)
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%w: no \"-----BEGIN ... PRIVATE KEY-----\" block found", ErrNotPEM)
	}
	return nil, fmt.Errorf("%w: found %q but no private key block; need \"PRIVATE KEY\" (PKCS#8) or \"RSA PRIVATE KEY\" (PKCS#1)", ErrNotPEM, seen)
}

func parsePrivateBlock(block *pem.Block) (*rsa.PrivateKey, error) {
	// RFC 1421 encryption puts its parameters in headers; Go can no longer
	// (and should not) decrypt it, so say so instead of failing in DER.
	if _, ok := block.Headers["Proc-Type"]; ok {
		return nil, fmt.Errorf("%w: the %q block is passphrase-protected; decrypt it first (openssl pkey -in key.pem -out plain.pem)", ErrEncryptedKey, block.Type)
	}
	var key *rsa.PrivateKey
	if block.Type == "RSA PRIVATE KEY" {
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			if _, err8 := x509.ParsePKCS8PrivateKey(block.Bytes); err8 == nil {
				return nil, fmt.Errorf("%w: the \"RSA PRIVATE KEY\" block holds PKCS#8 data; relabel it \"PRIVATE KEY\"", ErrBadKey)
			}
			return nil, fmt.Errorf("%w: PKCS#1 key does not parse: %v", ErrBadKey, err)
		}
		key = k
	} else {
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			if _, err1 := x509.ParsePKCS1PrivateKey(block.Bytes); err1 == nil {
				return nil, fmt.Errorf("%w: the \"PRIVATE KEY\" block holds PKCS#1 data; relabel it \"RSA PRIVATE KEY\"", ErrBadKey)
			}
			return nil, fmt.Errorf("%w: PKCS#8 key does not parse: %v", ErrBadKey, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: the PKCS#8 key is %s; the Vonage application key is RSA", ErrNotRSA, keyKind(k))
		}
		key = rk
	}
	if bits := key.N.BitLen(); bits < MinKeyBits {
		return nil, fmt.Errorf("%w: %d bits; need at least %d", ErrKeyTooSmall, bits, MinKeyBits)
	}
	if err := key.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return key, nil
}

// ParsePublicKeyPEM parses an RSA public key from PEM: PKIX ("PUBLIC KEY",
// the form the Applications API returns) or PKCS#1 ("RSA PUBLIC KEY"). It
// tolerates literal "\n" sequences as ParsePrivateKeyPEM does. It applies no
// size floor, since it is used to compare against what Vonage holds.
//
// The errors wrap ErrNotPEM, ErrNotRSA or ErrBadKey.
func ParsePublicKeyPEM(pemBytes []byte) (*rsa.PublicKey, error) {
	var seen []string
	for _, block := range pemBlocks(pemBytes) {
		switch block.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PKIX public key does not parse: %v", ErrBadKey, err)
			}
			rk, ok := k.(*rsa.PublicKey)
			if !ok {
				return nil, fmt.Errorf("%w: the public key is %s", ErrNotRSA, keyKind(k))
			}
			return rk, nil
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PKCS#1 public key does not parse: %v", ErrBadKey, err)
			}
			return k, nil
		}
		seen = append(seen, block.Type)
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%w: no \"-----BEGIN PUBLIC KEY-----\" block found", ErrNotPEM)
	}
	return nil, fmt.Errorf("%w: found %q but no public key block", ErrNotPEM, seen)
}

// normalizePEM undoes the usual damage of passing PEM through an
// environment variable: surrounding quotes and literal "\n" escapes.
func normalizePEM(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) >= 2 && (b[0] == '"' && b[len(b)-1] == '"' || b[0] == '\'' && b[len(b)-1] == '\'') {
		b = bytes.TrimSpace(b[1 : len(b)-1])
	}
	if bytes.Contains(b, []byte(`\n`)) {
		b = bytes.ReplaceAll(b, []byte(`\r\n`), []byte("\n"))
		b = bytes.ReplaceAll(b, []byte(`\n`), []byte("\n"))
	}
	return b
}

func keyKind(k any) string {
	switch k.(type) {
	case *ecdsa.PrivateKey, *ecdsa.PublicKey, *ecdh.PrivateKey, *ecdh.PublicKey:
		return "an EC key"
	case ed25519.PrivateKey, ed25519.PublicKey:
		return "an Ed25519 key"
	default:
		return fmt.Sprintf("a %T", k)
	}
}

// GenerateKey returns a fresh RSA-2048 key, the size Vonage generates for
// its applications. The error is from crypto/rand.
func GenerateKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, MinKeyBits)
	if err != nil {
		return nil, fmt.Errorf("keys: generating RSA key: %w", err)
	}
	return k, nil
}

// pemBlocks returns the PEM blocks in pemBytes in order, after
// normalizePEM; text between and around them is ignored.
func pemBlocks(pemBytes []byte) []*pem.Block {
	var blocks []*pem.Block
	for rest := normalizePEM(pemBytes); ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return blocks
		}
		blocks = append(blocks, block)
	}
}

// encodePEM returns der as one PEM block of the given type.
func encodePEM(blockType string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
}

// EncodePrivateKeyPEM returns k as a PKCS#8 "PRIVATE KEY" PEM block, the
// form Vonage hands out. It panics only if k is not a valid RSA key, which
// ParsePrivateKeyPEM and GenerateKey never return.
func EncodePrivateKeyPEM(k *rsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic("keys: EncodePrivateKeyPEM: " + err.Error())
	}
	return encodePEM("PRIVATE KEY", der)
}

// EncodePublicKeyPEM returns pub as a PKIX "PUBLIC KEY" PEM block, the form
// the Applications API takes in keys.public_key. It panics only if pub is
// not a valid RSA public key.
func EncodePublicKeyPEM(pub *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic("keys: EncodePublicKeyPEM: " + err.Error())
	}
	return encodePEM("PUBLIC KEY", der)
}
