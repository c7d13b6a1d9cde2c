package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sdkauth/sdkauth/db"
)

// Errors of Store.Rotate and Store.CheckApplication.
var (
	// ErrRotationInProgress means another rotation has a pending key and
	// has not finished; this one did nothing.
	ErrRotationInProgress = errors.New("keys: another key rotation is in progress")
	// ErrRotationConflict means the active key changed under this rotation
	// (another rotation won); this one did not activate its key.
	ErrRotationConflict = errors.New("keys: the active key changed during the rotation")
	// ErrKeyMismatch means the application's public key at Vonage is not
	// the active key's.
	ErrKeyMismatch = errors.New("keys: the application's public key does not match the active signing key")
)

// Application is the Vonage application whose one public key must be the
// active key's: tokens signed with any other key are refused by Vonage.
type Application interface {
	// PublicKeyPEM returns the application's public key as PEM.
	PublicKeyPEM(ctx context.Context) (string, error)
	// SetPublicKeyPEM replaces the application's public key, keeping the
	// rest of the application as it is.
	SetPublicKeyPEM(ctx context.Context, pem string) error
}

// MismatchError says which key the application has and which sdkauth
// would sign with. It wraps ErrKeyMismatch.
type MismatchError struct {
	// ApplicationKeyID is the thumbprint of the application's public key.
	ApplicationKeyID string
	ActiveKeyID      string
	// PendingKeyID is set when the application has the key of an
	// unfinished rotation, which `sdkauth keys rotate` finishes.
	PendingKeyID string
}

func (e *MismatchError) Error() string {
	msg := fmt.Sprintf("the application's public key (kid %s) does not match the active signing key (kid %s)", e.ApplicationKeyID, e.ActiveKeyID)
	if e.PendingKeyID != "" {
		msg += "; it is the key of an unfinished rotation: run `sdkauth keys rotate` to finish it"
	}
	return msg
}

func (e *MismatchError) Unwrap() error { return ErrKeyMismatch }

// PendingTimeout is how old a pending key must be before another rotation
// may take its place: long past any upload, so its rotation has died.
const PendingTimeout = 5 * time.Minute

// Rotation is what Store.Rotate did.
type Rotation struct {
	NewKeyID, OldKeyID string
	// PreviousExpiresAt is when the old key stops verifying.
	PreviousExpiresAt time.Time
	// Resumed is true when an unfinished rotation whose key was already
	// uploaded was finished instead of starting a new one.
	Resumed bool
}

// CheckApplication compares the application's public key with the
// active key. It returns a *MismatchError (wrapping ErrKeyMismatch), an
// error from app, or a database error.
func (s *Store) CheckApplication(ctx context.Context, app Application) error {
	remote, err := ApplicationKeyID(ctx, app)
	if err != nil {
		return err
	}
	active, pending, err := s.activeAndPending(ctx)
	if err != nil {
		return err
	}
	if remote == active {
		return nil
	}
	e := &MismatchError{ApplicationKeyID: remote, ActiveKeyID: active}
	if remote == pending {
		e.PendingKeyID = pending
	}
	return e
}

// Rotate generates an RSA-2048 key, uploads its public half to app, and
// then, in one transaction, makes it active and the old key previous until
// keep has passed (the longest a token it signed can live). The key is
// generated and uploaded outside any transaction; a pending row claims the
// rotation first, so a second rotation running at once stops before it
// uploads anything. Run again after a crash between the upload and the
// switch, it finishes that rotation.
//
// It returns ErrRotationInProgress, ErrRotationConflict, a *MismatchError
// when the application does not have the active key (nothing is changed
// then), errors from app (the pending key is removed unless the upload may
// have happened), or a database error.
func (s *Store) Rotate(ctx context.Context, app Application, keep time.Duration) (Rotation, error) {
	remote, err := ApplicationKeyID(ctx, app)
	if err != nil {
		return Rotation{}, err
	}
	active, pending, err := s.activeAndPending(ctx)
	if err != nil {
		return Rotation{}, err
	}
	if pending != "" && remote == pending {
		rot, err := s.activate(ctx, pending, active, keep)
		rot.Resumed = true
		return rot, err
	}
	if remote != active {
		return Rotation{}, &MismatchError{ApplicationKeyID: remote, ActiveKeyID: active}
	}
	key, err := GenerateKey()
	if err != nil {
		return Rotation{}, err
	}
	kid := Thumbprint(&key.PublicKey)
	sealed, err := s.seal(kid, key)
	if err != nil {
		return Rotation{}, err
	}
	pub := string(EncodePublicKeyPEM(&key.PublicKey))
	if err := s.claim(ctx, kid, pub, sealed, active); err != nil {
		return Rotation{}, err
	}
	// Replicas start trusting the new key now, before any of them signs
	// with it (see Ring.VerifyKeys).
	_ = db.New(s.pool).NotifyKeysChanged(ctx, kid)
	if err := app.SetPublicKeyPEM(ctx, pub); err != nil {
		// A failed PUT may still have been applied (a timeout after
		// Vonage acted), and then the pending key is the only one that
		// works: ask before throwing it away.
		if now, gerr := ApplicationKeyID(ctx, app); gerr == nil && now == active {
			_, _ = db.New(s.pool).DeletePendingKey(context.WithoutCancel(ctx), kid)
			return Rotation{}, fmt.Errorf("keys: uploading the new public key (nothing changed): %w", err)
		}
		return Rotation{}, fmt.Errorf("keys: uploading the new public key %s (it may have been applied; run `sdkauth keys rotate` again to finish): %w", kid, err)
	}
	return s.activate(context.WithoutCancel(ctx), kid, active, keep)
}

// claim stores the new key as pending, provided active is still the
// active key and no live rotation holds the pending slot. A pending key
// older than PendingTimeout belongs to a rotation that died before its
// upload finished, and is replaced.
func (s *Store) claim(ctx context.Context, kid, pub string, sealed []byte, active string) error {
	return db.WithTx(ctx, s.pool, func(q *db.Queries) error {
		cur, err := q.GetActiveKeyForUpdate(ctx)
		if db.IsNotFound(err) || err == nil && cur != active {
			return ErrRotationConflict
		}
		if err != nil {
			return err
		}
		p, err := q.GetPendingKeyForUpdate(ctx)
		switch {
		case err == nil && p.Now.Sub(p.CreatedAt) < PendingTimeout:
			return fmt.Errorf("%w (key %s pending since %s)", ErrRotationInProgress, p.ID, p.CreatedAt.UTC().Format(time.RFC3339))
		case err == nil:
			if _, err := q.DeletePendingKey(ctx, p.ID); err != nil {
				return err
			}
		case !db.IsNotFound(err):
			return err
		}
		err = q.InsertPendingKey(ctx, db.InsertPendingKeyParams{ID: kid, PublicKey: pub, PrivateKey: sealed})
		if db.IsUniqueViolation(err, "") {
			return ErrRotationInProgress
		}
		return err
	})
}

// activate is the switch: a compare-and-swap on the active key, in one
// transaction with the activation of the new key and the retirement of
// keys whose tokens have all expired. Replicas are told at once; those
// that miss the notification find the change on their next poll.
func (s *Store) activate(ctx context.Context, kid, old string, keep time.Duration) (Rotation, error) {
	rot := Rotation{NewKeyID: kid, OldKeyID: old}
	err := db.WithTx(ctx, s.pool, func(q *db.Queries) error {
		if n, err := q.DemoteActiveKey(ctx, db.DemoteActiveKeyParams{ID: old, KeepSeconds: keep.Seconds()}); err != nil {
			return err
		} else if n == 0 {
			return ErrRotationConflict
		}
		if n, err := q.ActivatePendingKey(ctx, kid); err != nil {
			return err
		} else if n == 0 {
			return ErrRotationConflict
		}
		_, err := q.RetireExpiredKeys(ctx)
		return err
	})
	if err != nil {
		return Rotation{}, err
	}
	// Engines without NOTIFY rely on the poll, and the switch is done, so
	// a failed notification is no failure of the rotation.
	_ = db.New(s.pool).NotifyKeysChanged(ctx, kid)
	list, err := s.List(ctx)
	if err != nil {
		return rot, err
	}
	for _, k := range list {
		if k.KeyID == old && k.ExpiresAt != nil {
			rot.PreviousExpiresAt = *k.ExpiresAt
		}
	}
	return rot, nil
}

// activeAndPending returns the kids of the active and pending keys ("" for
// none). It returns ErrNoKeyStored when no key is active.
func (s *Store) activeAndPending(ctx context.Context) (active, pending string, err error) {
	list, err := s.List(ctx)
	if err != nil {
		return "", "", err
	}
	for _, k := range list {
		switch k.State {
		case StateActive:
			active = k.KeyID
		case StatePending:
			pending = k.KeyID
		}
	}
	if active == "" {
		return "", "", ErrNoKeyStored
	}
	return active, pending, nil
}

// ApplicationKeyID returns the thumbprint of the application's public key.
// It returns app's error, or an error saying the key does not parse.
func ApplicationKeyID(ctx context.Context, app Application) (string, error) {
	text, err := app.PublicKeyPEM(ctx)
	if err != nil {
		return "", fmt.Errorf("keys: reading the application's public key: %w", err)
	}
	pub, err := ParsePublicKeyPEM([]byte(text))
	if err != nil {
		return "", fmt.Errorf("keys: the application's public key: %w", err)
	}
	return Thumbprint(pub), nil
}
