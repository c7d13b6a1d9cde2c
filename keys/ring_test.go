package keys

import (
	"errors"
	"sync"
	"testing"
	"time"
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
