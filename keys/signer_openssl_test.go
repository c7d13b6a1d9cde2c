//go:build cgo

package keys

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/internal/testkit"
)

// TestOpenSSLSignerCloseFailsPendingAndLeaksNothing closes a signer while
// 64 goroutines keep signing. The direct signer's Close waits for the
// signatures under way and later ones fail with ErrSignerClosed. With a pool
// of one thread most requests are queued when Close runs: those fail, the
// one being signed finishes and Close joins the thread. Either way the key
// is freed and nothing is left running in C or Go.
func TestOpenSSLSignerCloseFailsPendingAndLeaksNothing(t *testing.T) {
	if _, err := loadLibcrypto(); err != nil {
		t.Skipf("OpenSSL signer unavailable here: %v", err)
	}
	// threads 0 is the direct signer NewOpenSSLSigner returns; 1 a pool.
	for _, threads := range []int{0, 1} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			key, _ := testKeys(t)
			c := signerTestClaims()["user, default acl"]
			want, err := NewGoSigner(key).Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			threads0, keys0 := openSSLLive()
			goroutines0 := runtime.NumGoroutine()

			s, err := newOpenSSLSigner(key, threads)
			if err != nil {
				t.Fatal(err)
			}
			if threads, keys := openSSLLive(); threads != threads0+threads || keys != keys0+1 {
				t.Fatalf("running: %d threads and %d keys in C, want %d and %d", threads, keys, threads0+threads, keys0+1)
			}
			var signed, refused atomic.Int64
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for range 64 {
				wg.Go(func() {
					for {
						tok, err := s.Sign(c)
						switch {
						case errors.Is(err, ErrSignerClosed):
							refused.Add(1)
							return
						case err != nil:
							errs <- err
							return
						case tok != want:
							errs <- errors.New("token differs from the Go signer's")
							return
						}
						signed.Add(1)
					}
				})
			}
			testkit.WaitFor(t, 10*time.Second, "16 signatures", func() bool { return signed.Load() >= 16 })
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if refused.Load() != 64 {
				t.Fatalf("%d signing goroutines saw ErrSignerClosed, want all 64", refused.Load())
			}
			if threads, keys := openSSLLive(); threads != threads0 || keys != keys0 {
				t.Fatalf("after Close: %d threads and %d keys in C, want %d and %d", threads, keys, threads0, keys0)
			}
			if _, err := s.Sign(c); !errors.Is(err, ErrSignerClosed) {
				t.Fatalf("Sign after Close: %v, want ErrSignerClosed", err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			// The completion reader returned before Close did and the
			// signing goroutines have called Done; a goroutine that has
			// called Done may still be on its way out, so the count is
			// polled.
			testkit.WaitFor(t, 5*time.Second, "the signing goroutines to exit", func() bool {
				return runtime.NumGoroutine() <= goroutines0
			})
		})
	}
}

// TestRingClosesTheOpenSSLSignerItReplaces rotates a Ring from one OpenSSL
// signer to another while goroutines sign through it: none fails, and the
// replaced signer's thread and key are gone once the rotation is over.
func TestRingClosesTheOpenSSLSignerItReplaces(t *testing.T) {
	if _, err := loadLibcrypto(); err != nil {
		t.Skipf("OpenSSL signer unavailable here: %v", err)
	}
	a, b := testKeys(t)
	threads0, keys0 := openSSLLive()
	r := &Ring{}
	sa, err := newOpenSSLSigner(a, 1)
	if err != nil {
		t.Fatal(err)
	}
	r.Set(sa, nil)
	m := &Minter{ApplicationID: testAppID, Signer: r}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	stop := make(chan struct{})
	var minted atomic.Int64
	for range 16 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := m.AdminToken(time.Minute, nil); err != nil {
					errs <- err
					return
				}
				minted.Add(1)
			}
		})
	}
	// Signatures are queued on sa when it is replaced.
	testkit.WaitFor(t, 10*time.Second, "16 tokens", func() bool { return minted.Load() >= 16 })
	sb, err := newOpenSSLSigner(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	r.Set(sb, nil)
	testkit.WaitFor(t, 10*time.Second, "the old signer closed", func() bool {
		threads, keys := openSSLLive()
		return threads == threads0+1 && keys == keys0+1
	})
	n := minted.Load()
	testkit.WaitFor(t, 10*time.Second, "16 tokens with the new key", func() bool { return minted.Load() >= n+16 })
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if r.KeyID() != Thumbprint(&b.PublicKey) {
		t.Fatal("the ring does not sign with the new key")
	}
	r.Close()
	if threads, keys := openSSLLive(); threads != threads0 || keys != keys0 {
		t.Fatalf("after Ring.Close: %d threads and %d keys in C, want %d and %d", threads, keys, threads0, keys0)
	}
}
