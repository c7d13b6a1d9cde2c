package server

import (
	"context"
	"errors"
	"time"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
)

// consoleKeys is console.Keys over this replica's signing keys: the
// console's keys page lists them and rotates as `sdkauth keys rotate` does.
type consoleKeys struct {
	cfg   Config
	keys  *SigningKeys
	audit *auth.Audit
}

func (k consoleKeys) List(ctx context.Context) ([]keys.StoredKey, error) {
	return k.keys.Store.List(ctx)
}

// Rotatable reports whether the Vonage API credentials that upload a new
// public key to the application are configured.
func (k consoleKeys) Rotatable() bool { return k.cfg.VonageAPIKey != "" }

// Rotate rotates the signing key and waits briefly for this replica to
// sign with the new one, so the page that follows shows it in use. A
// rotation already under way, or an application whose key is not the
// active one, is a CodeUnavailable error saying so; nothing is changed.
func (k consoleKeys) Rotate(ctx context.Context) (keys.Rotation, error) {
	if !k.Rotatable() {
		return keys.Rotation{}, sdkauth.Errorf(sdkauth.CodeUnavailable, "Rotation needs VONAGE_API_KEY and VONAGE_API_SECRET, to upload the new public key to the application.")
	}
	rot, err := RotateSigningKey(ctx, k.cfg, k.keys.Store, k.audit)
	var mismatch *keys.MismatchError
	switch {
	case errors.Is(err, keys.ErrRotationInProgress), errors.Is(err, keys.ErrRotationConflict):
		return rot, &sdkauth.Error{Code: sdkauth.CodeUnavailable, Message: "Another rotation is under way; nothing was changed. Reload in a minute to see its outcome.", Err: err}
	case errors.As(err, &mismatch):
		return rot, &sdkauth.Error{Code: sdkauth.CodeUnavailable, Message: "Nothing was changed: " + mismatch.Error() + ".", Err: err}
	case err != nil:
		return rot, err
	}
	k.keys.Store.CatchUp(ctx, k.keys.Ring, 3*time.Second)
	return rot, nil
}
