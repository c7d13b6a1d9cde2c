//go:build cgo

package keys

// #cgo LDFLAGS: -ldl -lpthread
// #include <stdlib.h>
// #include <string.h>
// #include "signer_pool.h"
import "C"

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"unsafe"
)

// libcryptoNames are the shared libraries tried, in order, for libcrypto 3.
// It is dlopened at run time, so neither OpenSSL's headers nor the library
// are needed to build, only to run the fast path.
var libcryptoNames = []string{"libcrypto.so.3", "libcrypto.3.dylib"}

var (
	libcryptoOnce    sync.Once
	libcryptoVersion string
	libcryptoErr     error
)

// loadLibcrypto loads libcrypto 3 once per process and returns its version
// text. The outcome of the first attempt is final.
func loadLibcrypto() (string, error) {
	libcryptoOnce.Do(func() {
		var errs []error
		var msg [256]C.char
		for _, name := range libcryptoNames {
			cname := C.CString(name)
			rc := C.sk_load(cname, &msg[0], C.size_t(len(msg)))
			C.free(unsafe.Pointer(cname))
			if rc == 0 {
				libcryptoVersion = C.GoString(C.sk_version())
				return
			}
			errs = append(errs, errors.New(C.GoString(&msg[0])))
		}
		libcryptoErr = fmt.Errorf("%w: %w", ErrOpenSSLUnavailable, errors.Join(errs...))
	})
	return libcryptoVersion, libcryptoErr
}

// opensslError is OpenSSL's text for an error code.
func opensslError(code C.ulong) string {
	if code == 0 {
		return "no OpenSSL error recorded"
	}
	var buf [256]C.char
	C.sk_error_string(code, &buf[0], C.size_t(len(buf)))
	return C.GoString(&buf[0])
}

// poolSlots is how many signatures may be queued or in progress at once;
// a Sign beyond that waits for a free slot.
const poolSlots = 256

// opensslSigner signs with libcrypto 3 (RSA_sign on a key parsed once).
// Two dispatches are built, and the production one is the simpler:
//
//   - direct (NewOpenSSLSigner): the calling goroutine makes one blocking
//     cgo call per signature. The runtime hands its P to another thread for
//     the ~0.2 ms call and takes it back, which was expected to be costly;
//     measured on a quiet 2-core EPYC it is not (BenchmarkSignDesigns, 2
//     and 16 goroutines: 115–120 µs and 222 CPU-µs a signature, against
//     125–142 µs and 247–262 CPU-µs for the pool of 2 threads; `openssl
//     speed` signs in 215 µs a core there).
//   - pool (newOpenSSLSigner with threads > 0): a fixed pool of C threads
//     takes digests from a queue filled by a short cgo call that does not
//     wait for the signature, and reports them done through an eventfd (a
//     pipe outside Linux) that one goroutine reads through the netpoller;
//     that goroutine collects every finished slot with one more short cgo
//     call and wakes the goroutines waiting for them. No goroutine blocks
//     in C, but each signature costs two thread wake-ups more. It is kept
//     for the benchmarks that compare the designs (signer_designs_test.go),
//     on machines where a blocking cgo call costs more.
type opensslSigner struct {
	pool   *C.sk_pool
	pub    *rsa.PublicKey
	kid    string
	header string

	// direct signs on the calling goroutine (no pool threads). mu is held
	// for reading by each direct signature and for writing by Close, which
	// therefore frees the key only once no signature is using it.
	direct  bool
	sigSize int
	mu      sync.RWMutex
	closed  bool

	// The rest serves the pool alone; a direct signer has none of it.
	//
	// free holds the numbers of the slots no Sign is using.
	free chan int32
	// done[i] receives when slot i's request is finished.
	done []chan struct{}
	// closing is closed when Close starts; no slot is submitted after
	// the C pool has seen it.
	closing   chan struct{}
	closeOnce sync.Once
	// readerDone is closed when the completion reader has returned.
	readerDone chan struct{}
	fd         *os.File
}

// NewOpenSSLSigner returns a Signer that signs with libcrypto 3 (PKCS#1 v1.5,
// SHA-256) on the calling goroutine's thread; its tokens are
// byte-for-byte those of NewGoSigner for the same key and claims. The key
// is handed to OpenSSL once, here, and a test signature is checked with
// crypto/rsa before the signer is returned. It precomputes k's CRT values,
// which mutates k.
//
// The signer implements io.Closer: Close frees the key in C once no
// signature is using it. A Signer that is garbage without being closed
// keeps its key.
//
// It returns an error wrapping ErrOpenSSLUnavailable when libcrypto 3
// cannot be loaded (or this binary was built without cgo), and another
// error when OpenSSL refuses the key (for example a multi-prime key) or the
// test signature does not verify.
func NewOpenSSLSigner(k *rsa.PrivateKey) (Signer, error) {
	return newOpenSSLSigner(k, 0)
}

func newOpenSSLSigner(k *rsa.PrivateKey, threads int) (*opensslSigner, error) {
	if _, err := loadLibcrypto(); err != nil {
		return nil, err
	}
	if len(k.Primes) != 2 {
		return nil, fmt.Errorf("keys: OpenSSL signer: a key with %d primes is not supported", len(k.Primes))
	}
	k.Precompute()
	der := x509.MarshalPKCS1PrivateKey(k)
	defer clear(der)
	cder := C.CBytes(der)
	defer func() {
		C.memset(cder, 0, C.size_t(len(der)))
		C.free(cder)
	}()
	slots := 0
	if threads > 0 {
		slots = poolSlots
	}
	var code C.ulong
	pool := C.sk_pool_new((*C.uchar)(cder), C.long(len(der)), C.int(threads), C.int(slots), &code)
	if pool == nil {
		if code == 0 {
			return nil, errors.New("keys: OpenSSL signer: out of memory or threads")
		}
		return nil, fmt.Errorf("keys: OpenSSL refused the key: %s", opensslError(code))
	}
	kid := Thumbprint(&k.PublicKey)
	s := &opensslSigner{
		pool: pool, pub: &k.PublicKey, kid: kid, header: encodedHeader(kid),
		direct: threads == 0, sigSize: int(C.sk_pool_sig_size(pool)),
	}
	if !s.direct {
		s.free, s.done = make(chan int32, slots), make([]chan struct{}, slots)
		s.closing, s.readerDone = make(chan struct{}), make(chan struct{})
		for i := range slots {
			s.free <- int32(i)
			s.done[i] = make(chan struct{}, 1)
		}
		// A non-blocking descriptor makes the File pollable: its Read
		// parks the reader in the netpoller instead of blocking a thread.
		s.fd = os.NewFile(uintptr(C.sk_pool_fd(pool)), "sdkauth-signer")
		go s.readCompletions()
	}

	// A self-test: OpenSSL must produce signatures crypto/rsa accepts, or
	// every token would be refused by Vonage.
	digest := sha256.Sum256([]byte("sdkauth signer self-test"))
	sig, err := s.signDigest(digest[:])
	if err == nil {
		err = rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, digest[:], sig)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("keys: OpenSSL signer self-test failed: %w", err)
	}
	return s, nil
}

func (s *opensslSigner) KeyID() string          { return s.kid }
func (s *opensslSigner) Public() *rsa.PublicKey { return s.pub }

// Sign builds the signing input exactly as the Go signer does (see sign);
// only the RSA operation is handed to C. It returns ErrSignerClosed once
// Close has begun.
func (s *opensslSigner) Sign(c Claims) (string, error) { return sign(c, s.header, s) }

func (s *opensslSigner) signDigest(digest []byte) ([]byte, error) {
	if s.direct {
		return s.signDirect(digest)
	}
	var i int32
	select {
	case i = <-s.free:
	case <-s.closing:
		return nil, ErrSignerClosed
	}
	defer func() { s.free <- i }()
	slot := C.sk_pool_slot(s.pool, C.int(i))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&slot.digest[0])), len(slot.digest)), digest)
	if C.sk_pool_submit(s.pool, C.int(i)) != 0 {
		return nil, ErrSignerClosed
	}
	<-s.done[i]
	switch slot.status {
	case C.SK_OK:
		return C.GoBytes(unsafe.Pointer(C.sk_pool_sig(s.pool, C.int(i))), C.int(slot.siglen)), nil
	case C.SK_CLOSED:
		return nil, ErrSignerClosed
	default:
		return nil, fmt.Errorf("keys: signing with OpenSSL: %s", opensslError(slot.err))
	}
}

// signDirect signs on the calling goroutine with one blocking cgo call.
func (s *opensslSigner) signDirect(digest []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrSignerClosed
	}
	sig := make([]byte, s.sigSize)
	var n C.uint
	var code C.ulong
	if C.sk_pool_sign(s.pool, (*C.uchar)(unsafe.Pointer(&digest[0])), (*C.uchar)(unsafe.Pointer(&sig[0])), &n, &code) != C.SK_OK {
		return nil, fmt.Errorf("keys: signing with OpenSSL: %s", opensslError(code))
	}
	return sig[:n], nil
}

// readCompletions wakes the Sign of every finished request until Close
// has joined the threads and every request is answered.
func (s *opensslSigner) readCompletions() {
	defer close(s.readerDone)
	var buf [64]byte
	finished := make([]int32, poolSlots)
	for {
		if _, err := s.fd.Read(buf[:]); err != nil && !errors.Is(err, io.EOF) {
			// Only Close closes the descriptor, and only after this
			// goroutine has returned; anything else is a broken pool.
			panic(fmt.Sprintf("keys: reading the OpenSSL signer's completions: %v", err))
		}
		// Read closing before collecting: once it is closed and the
		// threads joined, this collection is the last one needed.
		stopping := s.isClosing()
		n := C.sk_pool_drain(s.pool, (*C.int32_t)(unsafe.Pointer(&finished[0])), C.int(len(finished)))
		for _, i := range finished[:n] {
			s.done[i] <- struct{}{}
		}
		if stopping {
			return
		}
	}
}

func (s *opensslSigner) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// Close stops the signer: queued signatures fail with ErrSignerClosed,
// those being made finish, the pool's threads (if any) are joined, and once every Sign
// has returned the key is freed in C. Sign fails with ErrSignerClosed
// afterwards. Close is safe to call more than once and always returns nil.
func (s *opensslSigner) Close() error {
	s.closeOnce.Do(func() {
		// Wait for the direct signatures under way; later ones fail.
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		if s.direct {
			C.sk_pool_free(s.pool)
			return
		}
		// Every request submitted from here on is refused by the pool,
		// and the reader stops after its next collection.
		C.sk_pool_shutdown(s.pool)
		close(s.closing)
		// Wake the reader for its last collection.
		C.sk_pool_wake(s.pool)
		<-s.readerDone
		// Wait for every Sign to give its slot back: until then one may
		// still be reading it, or about to submit it.
		for range poolSlots {
			<-s.free
		}
		s.fd.Close()
		C.sk_pool_free(s.pool)
	})
	return nil
}

var _ io.Closer = (*opensslSigner)(nil)

// signBlocking signs each digest on the calling thread, in one blocking cgo
// call, as a binding such as golang-fips/openssl does (one digest per
// call). It is the dispatch the pool replaced, kept for the benchmarks that
// compare the designs (signer_designs_test.go).
func (s *opensslSigner) signBlocking(digests [][32]byte) ([][]byte, error) {
	size := int(C.sk_pool_sig_size(s.pool))
	sigs := make([]byte, len(digests)*size)
	lens := make([]C.uint, len(digests))
	if C.sk_pool_sign_batch(s.pool, (*C.uchar)(unsafe.Pointer(&digests[0][0])), C.int(len(digests)),
		(*C.uchar)(unsafe.Pointer(&sigs[0])), &lens[0]) != 0 {
		return nil, errors.New("keys: signing with OpenSSL failed")
	}
	out := make([][]byte, len(digests))
	for i := range out {
		out[i] = sigs[i*size : i*size+int(lens[i])]
	}
	return out, nil
}

// openSSLLive returns the signing threads and keys alive in C, for leak
// tests.
func openSSLLive() (threads, keys int) {
	return int(C.sk_live_threads()), int(C.sk_live_keys())
}
