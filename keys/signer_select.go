package keys

import (
	"crypto/rsa"
	"errors"
	"fmt"
)

// Signer modes, as SDKAUTH_SIGNER takes them.
const (
	// SignerAuto uses OpenSSL when libcrypto 3 can be loaded, else crypto/rsa.
	SignerAuto = "auto"
	// SignerOpenSSL requires OpenSSL.
	SignerOpenSSL = "openssl"
	// SignerGo uses crypto/rsa only.
	SignerGo = "go"
)

// SignerModes lists the valid modes, for configuration checks and messages.
var SignerModes = []string{SignerAuto, SignerOpenSSL, SignerGo}

// ErrOpenSSLUnavailable means the OpenSSL signer cannot run here: libcrypto 3
// is not installed (Debian: libssl3) or the binary was built without cgo.
var ErrOpenSSLUnavailable = errors.New("keys: OpenSSL (libcrypto 3) is not available")

// ErrSignerClosed is returned by Sign of an OpenSSL signer that was closed
// before the signature was made.
var ErrSignerClosed = errors.New("keys: the signer is closed")

// SignerFunc is the one way to build the configured signer: it returns the
// constructor of mode's Signer, called once per key (a key store builds one
// for each active key), and which signer it builds, for the start-up log:
// "openssl (OpenSSL 3.0.x …)" or "go (crypto/rsa)",
// followed in auto mode by why OpenSSL is not used. The choice is made
// once, here; in auto mode a key OpenSSL refuses (a multi-prime key) still
// gets the pure-Go signer. Both produce identical tokens; OpenSSL's RSA is
// several times faster. The constructor mutates its key as NewGoSigner does,
// and an OpenSSL signer it returns should be closed (see NewOpenSSLSigner).
//
// It returns an error for an unknown mode, and in openssl mode one wrapping
// ErrOpenSSLUnavailable when libcrypto 3 cannot be loaded.
func SignerFunc(mode string) (func(*rsa.PrivateKey) (Signer, error), string, error) {
	goSigner := func(k *rsa.PrivateKey) (Signer, error) { return NewGoSigner(k), nil }
	switch mode {
	case SignerGo:
		return goSigner, "go (crypto/rsa)", nil
	case SignerOpenSSL, SignerAuto, "":
		version, err := loadLibcrypto()
		if err != nil {
			if mode == SignerOpenSSL {
				return nil, "", err
			}
			return goSigner, "go (crypto/rsa; OpenSSL not used: " + err.Error() + ")", nil
		}
		which := "openssl (" + version + ")"
		if mode == SignerOpenSSL {
			return NewOpenSSLSigner, which, nil
		}
		return func(k *rsa.PrivateKey) (Signer, error) {
			if s, err := NewOpenSSLSigner(k); err == nil {
				return s, nil
			}
			return NewGoSigner(k), nil
		}, which, nil
	default:
		return nil, "", unknownMode(mode)
	}
}

func unknownMode(mode string) error {
	return fmt.Errorf("keys: unknown signer %q: want auto, openssl or go", mode)
}
