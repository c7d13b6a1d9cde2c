package keys

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/db"
)

// Key states, as stored.
const (
	StatePending  = "pending"
	StateActive   = "active"
	StatePrevious = "previous"
	StateRetired  = "retired"
)

// ErrNoKeyStored is returned when no signing key is stored and none was
// given to import.
var ErrNoKeyStored = errors.New("keys: no signing key is stored")

// Store keeps the application's signing keys in Postgres, private halves
// sealed by a Cipher, so that every replica signs with the same key and a
// rotation reaches them all. It is safe for concurrent use.
type Store struct {
	pool      *pgxpool.Pool
	cipher    *Cipher
	newSigner func(*rsa.PrivateKey) (Signer, error)
}

// NewStore returns a Store. newSigner builds the Signer for the active key
// (for example one from SignerFunc for the configured mode); nil means
// NewGoSigner. c may be nil for a Store that only lists keys.
func NewStore(pool *pgxpool.Pool, c *Cipher, newSigner func(*rsa.PrivateKey) (Signer, error)) *Store {
	if newSigner == nil {
		newSigner = func(k *rsa.PrivateKey) (Signer, error) { return NewGoSigner(k), nil }
	}
	return &Store{pool: pool, cipher: c, newSigner: newSigner}
}

// StoredKey describes one stored key, without its private half.
type StoredKey struct {
	KeyID       string
	State       string
	Public      *rsa.PublicKey
	CreatedAt   time.Time
	ActivatedAt *time.Time
	ExpiresAt   *time.Time
}

// Import stores key as the active key when no key is stored yet; once one
// is, the stored active key is authoritative and key is left unused. A nil
// key imports nothing. It returns the kid of the active key and whether key
// was the one stored. Two replicas importing at once is safe: one insert
// wins and both read the winner.
//
// It returns ErrNoKeyStored when nothing is stored and key is nil, or a
// database error.
func (s *Store) Import(ctx context.Context, key *rsa.PrivateKey) (activeKID string, imported bool, err error) {
	q := db.New(s.pool)
	if key != nil {
		kid := Thumbprint(&key.PublicKey)
		sealed, err := s.seal(kid, key)
		if err != nil {
			return "", false, err
		}
		n, err := q.InsertActiveKeyIfNone(ctx, db.InsertActiveKeyIfNoneParams{
			ID: kid, PublicKey: string(EncodePublicKeyPEM(&key.PublicKey)), PrivateKey: sealed,
		})
		if err != nil {
			return "", false, fmt.Errorf("keys: importing the signing key: %w", err)
		}
		imported = n == 1
	}
	list, err := s.List(ctx)
	if err != nil {
		return "", false, err
	}
	for _, k := range list {
		if k.State == StateActive {
			return k.KeyID, imported, nil
		}
	}
	return "", false, ErrNoKeyStored
}

// List returns every stored key, newest first, retired ones included.
func (s *Store) List(ctx context.Context) ([]StoredKey, error) {
	rows, err := db.New(s.pool).ListAllSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: listing signing keys: %w", err)
	}
	out := make([]StoredKey, 0, len(rows))
	for _, r := range rows {
		pub, err := ParsePublicKeyPEM([]byte(r.PublicKey))
		if err != nil {
			return nil, fmt.Errorf("keys: stored key %s: %w", r.ID, err)
		}
		out = append(out, StoredKey{
			KeyID: r.ID, State: r.State, Public: pub,
			CreatedAt: r.CreatedAt, ActivatedAt: r.ActivatedAt, ExpiresAt: r.ExpiresAt,
		})
	}
	return out, nil
}

// Load makes r hold what is stored: the active key, decrypted, and the
// previous keys. It does nothing when r already holds exactly that, so it
// is cheap to call often, and it reuses r's Signer when the active key has
// not changed.
//
// It returns ErrNoKeyStored when no key is active, an error wrapping
// ErrWrongEncryptionKey when the active key does not decrypt (r is then
// left as it was and nothing stored is touched), or a database error.
func (s *Store) Load(ctx context.Context, r *Ring) (changed bool, err error) {
	r.loading.Lock()
	defer r.loading.Unlock()
	rows, err := db.New(s.pool).ListSigningKeys(ctx)
	if err != nil {
		return false, fmt.Errorf("keys: reading signing keys: %w", err)
	}
	var version strings.Builder
	for _, row := range rows {
		var exp int64
		if row.ExpiresAt != nil {
			exp = row.ExpiresAt.UnixNano()
		}
		fmt.Fprintf(&version, "%s:%s:%d;", row.ID, row.State, exp)
	}
	cur := r.load()
	if cur != nil && cur.version == version.String() {
		return false, nil
	}
	next := &ringSet{version: version.String()}
	// A signer built here belongs to r only once r holds it.
	var built Signer
	defer func() {
		if c, ok := built.(io.Closer); ok && err != nil {
			c.Close()
		}
	}()
	for _, row := range rows {
		switch row.State {
		case StateActive:
			if cur != nil && cur.active != nil && cur.active.KeyID() == row.ID {
				next.active = cur.active
				continue
			}
			key, err := s.open(row.ID, row.PrivateKey)
			if err != nil {
				return false, err
			}
			if next.active, err = s.newSigner(key); err != nil {
				return false, fmt.Errorf("keys: signer for %s: %w", row.ID, err)
			}
			built = next.active
		case StatePrevious:
			pub, err := ParsePublicKeyPEM([]byte(row.PublicKey))
			if err != nil {
				return false, fmt.Errorf("keys: stored key %s: %w", row.ID, err)
			}
			next.previous = append(next.previous, PreviousKey{KeyID: row.ID, Public: pub, ExpiresAt: *row.ExpiresAt})
		case StatePending:
			pub, err := ParsePublicKeyPEM([]byte(row.PublicKey))
			if err != nil {
				return false, fmt.Errorf("keys: stored key %s: %w", row.ID, err)
			}
			next.pending = append(next.pending, pub)
		}
	}
	if next.active == nil {
		return false, ErrNoKeyStored
	}
	r.set(next)
	return true, nil
}

// seal encrypts key's PKCS#8 DER (never PEM) for the row of kid.
func (s *Store) seal(kid string, key *rsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keys: encoding the private key: %w", err)
	}
	defer clear(der)
	return s.cipher.Seal(kid, der), nil
}

// open decrypts the private key of kid and checks that it is the key the
// kid names, so a row cannot carry another key's private half.
func (s *Store) open(kid string, sealed []byte) (*rsa.PrivateKey, error) {
	der, err := s.cipher.Open(kid, sealed)
	if errors.Is(err, ErrWrongEncryptionKey) {
		return nil, fmt.Errorf("SDKAUTH_KEY_ENCRYPTION_KEY does not decrypt the stored signing key %s; "+
			"set the encryption key it was stored with (nothing stored was changed): %w", kid, ErrWrongEncryptionKey)
	}
	if err != nil {
		return nil, err
	}
	defer clear(der)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: the stored signing key %s does not parse: %w", kid, err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok || Thumbprint(&key.PublicKey) != kid {
		return nil, fmt.Errorf("keys: the stored private key of %s is not the key its kid names", kid)
	}
	return key, nil
}

// CatchUp brings r up to the stored keys at once, for a replica that meets
// evidence of a rotation before its notification does: Vonage refusing its
// admin token, or a token signed with a key it does not know. While a
// rotation is pending (its key uploaded to the application, or about to
// be), it waits up to wait for that rotation to activate the key. It
// reports whether r's active key changed.
func (s *Store) CatchUp(ctx context.Context, r *Ring, wait time.Duration) bool {
	before := r.KeyID()
	deadline := time.Now().Add(wait)
	for {
		if _, err := s.Load(ctx, r); err != nil {
			return false
		}
		if r.KeyID() != before {
			return true
		}
		if set := r.load(); set == nil || len(set.pending) == 0 || time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}
