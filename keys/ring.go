package keys

import (
	"crypto/rsa"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoActiveKey is returned by Ring.Sign before any key was set.
var ErrNoActiveKey = errors.New("keys: no active signing key")

// PreviousKey is a demoted key: it signs nothing, but tokens it signed
// stay valid on sdkauth's own endpoints until ExpiresAt, when the last of
// them has expired.
type PreviousKey struct {
	KeyID     string
	Public    *rsa.PublicKey
	ExpiresAt time.Time
}

// Ring is the set of keys one replica signs and verifies with: the active
// key, which signs every new token, and previous keys, which only verify.
// It is itself a Signer that delegates to the active key. The whole set is
// replaced through one atomic pointer, so a Minter built on a Ring follows
// a rotation without a restart, and a request in flight finishes with the
// set it started with instead of failing. It is safe for concurrent use.
//
// The Ring owns the Signers it is given: when a Signer stops being the
// active one (and is not the new set's too), it is closed, if it is an
// io.Closer, as soon as the last Sign that started with it returns, so a
// rotation frees the old key's OpenSSL threads without failing a request.
type Ring struct {
	cur atomic.Pointer[ringSet]
	// loading serialises Store.Load, so that a slow reload that read the
	// table before a rotation cannot overwrite a faster one that read it
	// after.
	loading sync.Mutex
	// Now is the clock that decides when previous keys lapse; nil means
	// time.Now.
	Now func() time.Time
}

type ringSet struct {
	active   Signer
	previous []PreviousKey
	// pending are keys a rotation is about to activate.
	pending []*rsa.PublicKey
	// verify lists active, previous and pending keys in that order, with
	// their kids worked out once (set fills it): what PublicKeys,
	// VerifyKeys and VerifyKey read.
	verify []verifyKey
	// version identifies what the set was built from, so a reload that
	// finds nothing changed can skip decrypting and rebuilding.
	version string

	// refs counts the Signs using the set, plus one while it is the
	// Ring's current set; at zero nothing can use it again.
	refs atomic.Int64
	// closeActive is set when the set is replaced by one with another
	// active Signer, which the last reference then closes.
	closeActive bool
}

// acquire returns the current set with a reference the caller must
// release, or nil before any set.
func (r *Ring) acquire() *ringSet {
	for {
		s := r.cur.Load()
		if s == nil {
			return nil
		}
		// A set at zero has been replaced: load its successor.
		if n := s.refs.Load(); n > 0 && s.refs.CompareAndSwap(n, n+1) {
			return s
		}
	}
}

func (s *ringSet) release() {
	if s.refs.Add(-1) == 0 && s.closeActive {
		if c, ok := s.active.(io.Closer); ok {
			c.Close()
		}
	}
}

// Set makes active the signing key and previous the keys that still
// verify. Callers never see a mix of the old and new sets.
func (r *Ring) Set(active Signer, previous []PreviousKey) {
	r.set(&ringSet{active: active, previous: previous})
}

// verifyKey is a key tokens may be verified with, under its kid; a previous
// key's until is when it lapses (zero for the others).
type verifyKey struct {
	kid     string
	pub     *rsa.PublicKey
	until   time.Time
	pending bool
}

// trusted reports whether k still verifies at t.
func (k verifyKey) trusted(t time.Time) bool { return k.until.IsZero() || t.Before(k.until) }

// set makes s the current set and drops the Ring's reference to the one it
// replaces.
func (r *Ring) set(s *ringSet) {
	if s.active != nil {
		s.verify = append(s.verify, verifyKey{kid: s.active.KeyID(), pub: s.active.Public()})
	}
	for _, p := range s.previous {
		s.verify = append(s.verify, verifyKey{kid: Thumbprint(p.Public), pub: p.Public, until: p.ExpiresAt})
	}
	for _, p := range s.pending {
		s.verify = append(s.verify, verifyKey{kid: Thumbprint(p), pub: p, pending: true})
	}
	s.refs.Store(1)
	old := r.cur.Swap(s)
	if old == nil {
		return
	}
	old.closeActive = old.active != nil && old.active != s.active
	old.release()
}

// Close drops the current set, closing its active Signer once no Sign is
// using it. Sign then returns ErrNoActiveKey until the next Set.
func (r *Ring) Close() {
	r.loading.Lock()
	defer r.loading.Unlock()
	r.set(&ringSet{})
}

func (r *Ring) load() *ringSet { return r.cur.Load() }

// Sign signs c with the active key. It returns ErrNoActiveKey before Set
// was called, or the active Signer's error.
func (r *Ring) Sign(c Claims) (string, error) {
	s := r.acquire()
	if s == nil {
		return "", ErrNoActiveKey
	}
	defer s.release()
	if s.active == nil {
		return "", ErrNoActiveKey
	}
	return s.active.Sign(c)
}

// KeyID returns the kid of the active key, or "" before Set was called.
func (r *Ring) KeyID() string {
	if s := r.load(); s != nil && s.active != nil {
		return s.active.KeyID()
	}
	return ""
}

// Public returns the active public key, or nil before Set was called.
func (r *Ring) Public() *rsa.PublicKey {
	if s := r.load(); s != nil && s.active != nil {
		return s.active.Public()
	}
	return nil
}

// VerifyKeys returns the keys sdkauth accepts tokens signed with:
// PublicKeys and the key of a rotation in progress. Trusting that key
// before it signs anything means a token minted by a replica that has
// switched is accepted by one that has not switched yet.
func (r *Ring) VerifyKeys() []*rsa.PublicKey { return r.keys(true) }

// VerifyKey returns the key of VerifyKeys whose kid (RFC 7638 thumbprint)
// is kid, or nil. Unlike keyWithID over VerifyKeys, it works out no
// thumbprint and allocates nothing: the kids are computed when the keys are
// set.
func (r *Ring) VerifyKey(kid string) *rsa.PublicKey {
	s := r.load()
	if s == nil {
		return nil
	}
	for _, k := range s.verify {
		if k.kid == kid {
			if !k.trusted(r.now()) {
				return nil
			}
			return k.pub
		}
	}
	return nil
}

// PublicKeys returns the keys tokens may currently be signed with: the
// active key first, then each previous key that has not lapsed. It is what
// JWKS lists.
func (r *Ring) PublicKeys() []*rsa.PublicKey { return r.keys(false) }

// keys lists the current set's keys that are still trusted, the pending
// ones too when asked.
func (r *Ring) keys(pending bool) []*rsa.PublicKey {
	s := r.load()
	if s == nil {
		return nil
	}
	t := r.now()
	out := make([]*rsa.PublicKey, 0, len(s.verify))
	for _, k := range s.verify {
		if (pending || !k.pending) && k.trusted(t) {
			out = append(out, k.pub)
		}
	}
	return out
}

func (r *Ring) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
