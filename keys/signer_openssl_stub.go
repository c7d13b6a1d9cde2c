//go:build !cgo

package keys

import (
	"crypto/rsa"
	"fmt"
)

// NewOpenSSLSigner always fails in a binary built without cgo
// (CGO_ENABLED=0): the OpenSSL signer reaches libcrypto through cgo. It
// returns an error wrapping ErrOpenSSLUnavailable.
func NewOpenSSLSigner(*rsa.PrivateKey) (Signer, error) {
	_, err := loadLibcrypto()
	return nil, err
}

func loadLibcrypto() (string, error) {
	return "", fmt.Errorf("%w: this binary was built without cgo (CGO_ENABLED=0)", ErrOpenSSLUnavailable)
}
