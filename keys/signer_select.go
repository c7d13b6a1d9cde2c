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

// NewSigner returns the Signer mode asks for, and which one it is for the
// start-up log: "openssl (OpenSSL 3.0.x …)" or "go (crypto/rsa)", followed in
// auto mode by why OpenSSL was not used. Both produce identical tokens;
// OpenSSL's RSA is 2–3 times faster. It mutates k as NewGoSigner does.
//
// It returns an error for an unknown mode, and in openssl mode the error of
// NewOpenSSLSigner (wrapping ErrOpenSSLUnavailable when libcrypto 3 cannot be
// loaded). In auto mode it does not fail.
func NewSigner(k *rsa.PrivateKey, mode string) (Signer, string, error) {
	switch mode {
	case SignerGo:
		return NewGoSigner(k), "go (crypto/rsa)", nil
	case SignerOpenSSL, SignerAuto, "":
		s, err := NewOpenSSLSigner(k)
		if err == nil {
			return s, "openssl (" + openSSLVersion() + ")", nil
		}
		if mode == SignerOpenSSL {
			return nil, "", err
		}
		return NewGoSigner(k), "go (crypto/rsa; OpenSSL not used: " + err.Error() + ")", nil
	default:
		return nil, "", unknownMode(mode)
	}
}

// SignerFunc returns a constructor of mode's Signer, for code that builds one
// per key (a key store, rotation), and which signer it builds, as NewSigner
// says; the choice is made once, here. In auto mode a key OpenSSL refuses
// (a multi-prime key) still gets the pure-Go signer.
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
		if mode == SignerOpenSSL {
			return NewOpenSSLSigner, "openssl (" + version + ")", nil
		}
		return func(k *rsa.PrivateKey) (Signer, error) {
			if s, err := NewOpenSSLSigner(k); err == nil {
				return s, nil
			}
			return NewGoSigner(k), nil
		}, "openssl (" + version + ")", nil
	default:
		return nil, "", unknownMode(mode)
	}
}

func unknownMode(mode string) error {
	return fmt.Errorf("keys: unknown signer %q: want auto, openssl or go", mode)
}
