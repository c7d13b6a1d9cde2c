//go:build cgo

package keys

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// libcryptoNames are the shared libraries tried, in order, for libcrypto 3.
// golang-fips/openssl dlopens the library at run time, so neither its headers
// nor the library are needed to build, only to run the fast path.
var libcryptoNames = []string{"libcrypto.so.3", "libcrypto.3.dylib"}

var (
	libcryptoOnce    sync.Once
	libcryptoVersion string
	libcryptoErr     error
)

// loadLibcrypto loads and initialises libcrypto 3 once per process and
// returns its version text. The outcome of the first attempt is final, as
// openssl.Init's is.
func loadLibcrypto() (string, error) {
	libcryptoOnce.Do(func() {
		var errs []error
		for _, name := range libcryptoNames {
			if exists, _ := openssl.CheckVersion(name); !exists {
				errs = append(errs, fmt.Errorf("%s cannot be loaded", name))
				continue
			}
			if err := openssl.Init(name); err != nil {
				libcryptoErr = fmt.Errorf("%w: %s: %v", ErrOpenSSLUnavailable, name, err)
				return
			}
			libcryptoVersion = openssl.VersionText()
			return
		}
		libcryptoErr = fmt.Errorf("%w: %w", ErrOpenSSLUnavailable, errors.Join(errs...))
	})
	return libcryptoVersion, libcryptoErr
}

type opensslSigner struct {
	key    *openssl.PrivateKeyRSA
	pub    *rsa.PublicKey
	kid    string
	header string
}

// NewOpenSSLSigner returns a Signer that signs with libcrypto 3 (PKCS#1 v1.5,
// SHA-256); its tokens are byte-for-byte those of NewGoSigner for the same
// key and claims. The key is handed to OpenSSL once, here, and a test
// signature is checked with crypto/rsa before the signer is returned. It
// precomputes k's CRT values, which mutates k.
//
// It returns an error wrapping ErrOpenSSLUnavailable when libcrypto 3
// cannot be loaded (or this binary was built without cgo), and another
// error when OpenSSL refuses the key (for example a multi-prime key) or the
// test signature does not verify.
func NewOpenSSLSigner(k *rsa.PrivateKey) (Signer, error) {
	if _, err := loadLibcrypto(); err != nil {
		return nil, err
	}
	if len(k.Primes) != 2 {
		return nil, fmt.Errorf("keys: OpenSSL signer: a key with %d primes is not supported", len(k.Primes))
	}
	k.Precompute()
	pc := k.Precomputed
	enc := bbig.Enc
	key, err := openssl.NewPrivateKeyRSA(enc(k.N), enc(big.NewInt(int64(k.E))), enc(k.D),
		enc(k.Primes[0]), enc(k.Primes[1]), enc(pc.Dp), enc(pc.Dq), enc(pc.Qinv))
	if err != nil {
		return nil, fmt.Errorf("keys: OpenSSL refused the key: %w", err)
	}
	// A self-test: OpenSSL must produce signatures crypto/rsa accepts, or
	// every token would be refused by Vonage.
	digest := sha256.Sum256([]byte("sdkauth signer self-test"))
	sig, err := openssl.SignRSAPKCS1v15(key, crypto.SHA256, digest[:])
	if err == nil {
		err = rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, digest[:], sig)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: OpenSSL signer self-test failed: %w", err)
	}
	kid := Thumbprint(&k.PublicKey)
	return &opensslSigner{key: key, pub: &k.PublicKey, kid: kid, header: encodedHeader(kid)}, nil
}

// openSSLVersion returns the version text of the loaded libcrypto.
func openSSLVersion() string { return libcryptoVersion }

func (s *opensslSigner) KeyID() string          { return s.kid }
func (s *opensslSigner) Public() *rsa.PublicKey { return s.pub }

// Sign builds the signing input exactly as the Go signer does (see sign);
// only the RSA operation crosses into C.
func (s *opensslSigner) Sign(c Claims) (string, error) { return sign(c, s.header, s) }

func (s *opensslSigner) signDigest(digest []byte) ([]byte, error) {
	sig, err := openssl.SignRSAPKCS1v15(s.key, crypto.SHA256, digest)
	if err != nil {
		return nil, fmt.Errorf("keys: signing with OpenSSL: %w", err)
	}
	return sig, nil
}
