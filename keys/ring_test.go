package keys

import (
	"crypto/rsa"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/internal/testkit"
)

func TestRingSignsWithTheActiveKeyAndTrustsUnexpiredPrevious(t *testing.T) {
	t.Parallel()
	a, b := testKeys(t)
	now := fixedNow
	r := &Ring{Now: func() time.Time { return now }}
	if _, err := r.Sign(Claims{}); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("Sign before Set: %v", err)
	}
	if r.KeyID() != "" || r.Public() != nil || len(r.PublicKeys()) != 0 {
		t.Fatal("an empty ring has keys")
	}
	r.Set(NewGoSigner(b), []PreviousKey{{KeyID: Thumbprint(&a.PublicKey), Public: &a.PublicKey, ExpiresAt: now.Add(time.Hour)}})
	if r.KeyID() != Thumbprint(&b.PublicKey) || !r.Public().Equal(&b.PublicKey) {
		t.Fatal("the ring does not present the active key")
	}
	if got := r.PublicKeys(); len(got) != 2 || !got[0].Equal(&b.PublicKey) || !got[1].Equal(&a.PublicKey) {
		t.Fatalf("PublicKeys = %d keys, want active then previous", len(got))
	}
	now = now.Add(time.Hour)
	if got := r.PublicKeys(); len(got) != 1 || !got[0].Equal(&b.PublicKey) {
		t.Fatalf("a lapsed previous key is still trusted (%d keys)", len(got))
	}
}

// VerifyKey finds by kid exactly the keys VerifyKeys lists: the active
// key, a previous key until it lapses, and a pending one.
func TestRingVerifyKeyFindsWhatVerifyKeysLists(t *testing.T) {
	t.Parallel()
	a, b := testKeys(t)
	c := testkit.Key(t, 2)
	now := fixedNow
	r := &Ring{Now: func() time.Time { return now }}
	if r.VerifyKey(Thumbprint(&a.PublicKey)) != nil {
		t.Fatal("an empty ring has a key")
	}
	r.set(&ringSet{active: NewGoSigner(b), previous: []PreviousKey{{KeyID: "a stored id", Public: &a.PublicKey, ExpiresAt: now.Add(time.Hour)}}, pending: []*rsa.PublicKey{&c.PublicKey}})
	check := func(want int) {
		t.Helper()
		listed := r.VerifyKeys()
		if len(listed) != want {
			t.Fatalf("VerifyKeys lists %d keys, want %d", len(listed), want)
		}
		for _, k := range []*rsa.PublicKey{&a.PublicKey, &b.PublicKey, &c.PublicKey} {
			if got, lists := r.VerifyKey(Thumbprint(k)), keyWithID(listed, Thumbprint(k)); got != lists {
				t.Errorf("VerifyKey(%s) = %v, VerifyKeys has %v", Thumbprint(k), got != nil, lists != nil)
			}
		}
		if r.VerifyKey("not-a-kid") != nil || r.VerifyKey("") != nil {
			t.Error("VerifyKey found a key for a kid of none")
		}
	}
	check(3)
	now = now.Add(time.Hour)
	check(2)
}

// TestRingSwapDoesNotFailSigningInFlight swaps the active key while
// goroutines sign and verify; with -race it also shows the swap is atomic.
func TestRingSwapDoesNotFailSigningInFlight(t *testing.T) {
	t.Parallel()
	a, b := testKeys(t)
	sa, sb := NewGoSigner(a), NewGoSigner(b)
	r := &Ring{}
	r.Set(sa, nil)
	m := &Minter{ApplicationID: testAppID, Signer: r}
	v := &Verifier{ApplicationID: testAppID, Keys: r.PublicKeys}
	var wg sync.WaitGroup
	errs := make(chan error, 400)
	for range 4 {
		wg.Go(func() {
			for range 50 {
				tok, _, err := m.UserToken("new-user", DefaultACL(), time.Minute)
				if err == nil {
					_, err = v.Verify(tok)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range 20 {
		next, prev := sb, sa
		if i%2 == 1 {
			next, prev = sa, sb
		}
		r.Set(next, []PreviousKey{{Public: prev.Public(), ExpiresAt: time.Now().Add(time.Hour)}})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

var _ Signer = (*Ring)(nil)

// closeSigner is a Signer whose Sign waits for release and that records
// Close, to see when a Ring closes it.
type closeSigner struct {
	Signer
	entered, release chan struct{}
	closed           atomic.Bool
}

func (s *closeSigner) Sign(c Claims) (string, error) {
	s.entered <- struct{}{}
	<-s.release
	if s.closed.Load() {
		return "", ErrSignerClosed
	}
	return s.Signer.Sign(c)
}

func (s *closeSigner) Close() error { s.closed.Store(true); return nil }

// TestRingClosesAReplacedSignerOnlyAfterItsLastSign replaces the active
// signer while a Sign is in it: the Sign still succeeds, and the old signer
// is closed as it returns; a signer kept by the new set is never closed.
func TestRingClosesAReplacedSignerOnlyAfterItsLastSign(t *testing.T) {
	a, b := testKeys(t)
	old := &closeSigner{Signer: NewGoSigner(a), entered: make(chan struct{}), release: make(chan struct{})}
	next := &closeSigner{Signer: NewGoSigner(b), entered: make(chan struct{}, 100), release: make(chan struct{})}
	close(next.release)
	r := &Ring{}
	r.Set(old, nil)
	done := make(chan error)
	go func() {
		_, err := r.Sign(signerTestClaims()["admin, no acl"])
		done <- err
	}()
	<-old.entered
	r.Set(next, nil)
	r.Set(next, []PreviousKey{{Public: &a.PublicKey, ExpiresAt: time.Now().Add(time.Hour)}})
	if old.closed.Load() {
		t.Fatal("the old signer was closed while a Sign was in it")
	}
	close(old.release)
	if err := <-done; err != nil {
		t.Fatalf("the Sign in flight during the swap: %v", err)
	}
	if !old.closed.Load() {
		t.Fatal("the old signer was not closed after its last Sign")
	}
	if _, err := r.Sign(signerTestClaims()["admin, no acl"]); err != nil || next.closed.Load() {
		t.Fatalf("the new signer, kept across two sets: err %v, closed %v", err, next.closed.Load())
	}
	r.Close()
	if !next.closed.Load() {
		t.Fatal("Ring.Close did not close the active signer")
	}
	if _, err := r.Sign(signerTestClaims()["admin, no acl"]); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("Sign after Ring.Close: %v, want ErrNoActiveKey", err)
	}
}
