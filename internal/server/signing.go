package server

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/vonage"
)

// SigningKeys is a replica's key ring and what keeps it current.
type SigningKeys struct {
	Store *keys.Store
	Ring  *keys.Ring
	stop  func()
}

// reloadForUnknownKey returns the Verifier's Unknown hook: a token signed
// with a key this replica does not know may come from a rotation whose
// notification has not arrived yet, so the keys are read again, at most once
// a second (anyone may send a token naming a made-up kid). Callers take
// turns. Whether the key is known is asked again after the reload, and when
// the limit allows none: the key watcher may have brought the key in
// meanwhile (it hears the same notification that made another replica
// switch), and then the reload itself changes nothing.
func (k *SigningKeys) reloadForUnknownKey() func(kid string) bool {
	var mu sync.Mutex
	var last time.Time
	knows := func(kid string) bool { return k.Ring.VerifyKey(kid) != nil }
	return func(kid string) bool {
		mu.Lock()
		defer mu.Unlock()
		if knows(kid) {
			return true
		}
		if time.Since(last) >= time.Second {
			last = time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if _, err := k.Store.Load(ctx, k.Ring); err != nil {
				return false
			}
		}
		return knows(kid)
	}
}

// openSigningKeys imports the environment's private key while no key is
// stored, loads the stored keys (failing, and changing nothing, when the
// encryption key does not open them), checks the active key against the
// Vonage application when API credentials are set, and starts following
// rotations. Call stop when done.
func openSigningKeys(ctx context.Context, cfg Config, pool *pgxpool.Pool, log *slog.Logger) (*SigningKeys, error) {
	store, err := NewKeyStore(cfg, pool, log)
	if err != nil {
		return nil, err
	}
	var envKey *rsa.PrivateKey
	source := "VONAGE_PRIVATE_KEY"
	if cfg.PrivateKeyPath != "" {
		source = "VONAGE_PRIVATE_KEY_PATH"
	}
	if cfg.PrivateKey != "" || cfg.PrivateKeyPath != "" {
		if envKey, err = LoadPrivateKey(cfg); err != nil {
			return nil, err
		}
	}
	if envKey != nil && cfg.VonageAPIKey != "" && cfg.VonageAPISecret != "" {
		if err := checkBeforeImport(ctx, cfg, store, envKey, source); err != nil {
			return nil, err
		}
	}
	kid, imported, err := store.Import(ctx, envKey)
	if errors.Is(err, keys.ErrNoKeyStored) {
		return nil, errors.New("no signing key is stored yet: set VONAGE_PRIVATE_KEY_PATH (or VONAGE_PRIVATE_KEY) to the application's private key for the first start")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case imported:
		log.Info("signing key imported from the environment and stored encrypted", "kid", kid, "source", source)
	case envKey != nil && keys.Thumbprint(&envKey.PublicKey) != kid:
		// Once a key is stored it is authoritative (a rotation may have
		// replaced the one the environment still names), so this is
		// reported, not acted on.
		log.Warn("the private key in the environment is not the stored active key; the stored key is used",
			"source", source, "environment_kid", keys.Thumbprint(&envKey.PublicKey), "active_kid", kid)
	}
	ring := &keys.Ring{}
	if _, err := store.Load(ctx, ring); err != nil {
		return nil, err
	}
	if cfg.VonageAPIKey != "" && cfg.VonageAPISecret != "" {
		if err := store.CheckApplication(ctx, Application(cfg)); err != nil {
			return nil, fmt.Errorf("checking the signing key against Vonage application %s: %w", cfg.ApplicationID, err)
		}
		log.Info("signing key matches the Vonage application", "kid", ring.KeyID(), "application_id", cfg.ApplicationID)
	}
	watchCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		store.Watch(watchCtx, ring, keys.WatchOptions{Poll: cfg.KeyPoll, Log: log})
	}()
	return &SigningKeys{Store: store, Ring: ring, stop: func() { cancel(); <-done; ring.Close() }}, nil
}

// checkBeforeImport refuses a first start whose environment key is not the
// application's, before that key is stored: once stored it would be
// authoritative, and fixing the environment would no longer help.
func checkBeforeImport(ctx context.Context, cfg Config, store *keys.Store, envKey *rsa.PrivateKey, source string) error {
	list, err := store.List(ctx)
	if err != nil || len(list) > 0 {
		return err
	}
	remote, err := keys.ApplicationKeyID(ctx, Application(cfg))
	if err != nil {
		return fmt.Errorf("checking the signing key against Vonage application %s: %w", cfg.ApplicationID, err)
	}
	if kid := keys.Thumbprint(&envKey.PublicKey); kid != remote {
		return fmt.Errorf("checking the signing key against Vonage application %s: the application's public key (kid %s) does not match the private key in %s (kid %s); nothing was stored",
			cfg.ApplicationID, remote, source, kid)
	}
	return nil
}

// NewKeyStore returns the key store with the configured encryption key and
// signer.
func NewKeyStore(cfg Config, pool *pgxpool.Pool, log *slog.Logger) (*keys.Store, error) {
	if cfg.KeyEncryptionKey == nil {
		return nil, errors.New("SDKAUTH_KEY_ENCRYPTION_KEY is required: 32 bytes in base64 (openssl rand -base64 32), the same on every replica")
	}
	cipher, err := keys.NewCipher(cfg.KeyEncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("SDKAUTH_KEY_ENCRYPTION_KEY: %w", err)
	}
	newSigner, which, err := keys.SignerFunc(cfg.Signer)
	if err != nil {
		return nil, fmt.Errorf("SDKAUTH_SIGNER=%s: %w", cfg.Signer, err)
	}
	return keys.NewStore(pool, cipher, func(k *rsa.PrivateKey) (keys.Signer, error) {
		s, err := newSigner(k)
		if err != nil {
			return nil, fmt.Errorf("SDKAUTH_SIGNER=%s: %w", cfg.Signer, err)
		}
		log.Info("signer ready", "signer", which, "kid", s.KeyID())
		return s, nil
	}), nil
}

// ApplicationsClient is the Vonage client for the Applications API, which
// takes the account's API key and secret rather than a JWT.
func ApplicationsClient(cfg Config) *vonage.Client {
	return vonage.New(cfg.VonageAPIURL, nil,
		vonage.WithBasicAuth(cfg.VonageAPIKey, cfg.VonageAPISecret),
		vonage.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
		vonage.WithUserAgent("sdkauth"))
}

// Application is the configured Vonage application, as keys.Store
// rotates and checks it.
func Application(cfg Config) keys.Application {
	return vonageApplication{client: ApplicationsClient(cfg), id: cfg.ApplicationID}
}

// vonageApplication is keys.Application over the Applications API v2.
type vonageApplication struct {
	client *vonage.Client
	id     string
}

func (a vonageApplication) PublicKeyPEM(ctx context.Context) (string, error) {
	app, err := a.client.GetApplication(ctx, a.id)
	return app.Keys.PublicKey, err
}

// SetPublicKeyPEM replaces the key with a PUT of the whole application as
// it was just read, since a PUT replaces everything it is not given.
func (a vonageApplication) SetPublicKeyPEM(ctx context.Context, pem string) error {
	app, err := a.client.GetApplication(ctx, a.id)
	if err != nil {
		return err
	}
	app.Keys = vonage.ApplicationKeys{PublicKey: pem}
	_, err = a.client.UpdateApplication(ctx, a.id, app)
	return err
}

// DevActiveKey gives `sdkauth dev` its signing key: the stored active key,
// else the environment's, else a generated one, stored as `serve` would
// store it. It returns the public half, for the emulator's application, and
// the private half when it is the environment's or generated (nil when an
// earlier run's stored key is active), for the run's key file.
// generatedKEK says the encryption key was made up for this run, which
// explains a failure to open keys an earlier run stored.
func DevActiveKey(ctx context.Context, cfg Config, generatedKEK bool) (*rsa.PublicKey, *rsa.PrivateKey, error) {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	defer pool.Close()
	store, err := NewKeyStore(cfg, pool, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, nil, err
	}
	var key *rsa.PrivateKey
	if cfg.PrivateKey != "" || cfg.PrivateKeyPath != "" {
		if key, err = LoadPrivateKey(cfg); err != nil {
			return nil, nil, err
		}
	}
	_, _, err = store.Import(ctx, key)
	if errors.Is(err, keys.ErrNoKeyStored) {
		if key, err = keys.GenerateKey(); err != nil {
			return nil, nil, err
		}
		_, _, err = store.Import(ctx, key)
	}
	if err != nil {
		return nil, nil, err
	}
	ring := &keys.Ring{}
	if _, err := store.Load(ctx, ring); err != nil {
		if generatedKEK && errors.Is(err, keys.ErrWrongEncryptionKey) {
			return nil, nil, fmt.Errorf("%w\n(dev made up an encryption key because SDKAUTH_KEY_ENCRYPTION_KEY is unset; set the one the keys were stored with, or use a fresh database)", err)
		}
		return nil, nil, err
	}
	if key != nil && keys.Thumbprint(&key.PublicKey) != ring.KeyID() {
		key = nil // a key stored by an earlier run is active, not this one
	}
	return ring.Public(), key, nil
}

// previousKeyLifetime is how long a demoted key keeps verifying: the
// longest any token can live (Vonage's 24 h), plus a margin for replicas
// that sign with the old key until their next poll, and for clock skew.
const previousKeyLifetime = keys.MaxTTL + 5*time.Minute

// RotateSigningKey rotates the application's signing key (keys.Store.Rotate
// against the Vonage application, the old key verifying for
// previousKeyLifetime) and records the rotation in the audit log, with the
// acting client when ctx carries one. `sdkauth keys rotate` and the console
// both rotate through it. It returns Store.Rotate's errors.
func RotateSigningKey(ctx context.Context, cfg Config, store *keys.Store, audit *auth.Audit) (keys.Rotation, error) {
	rot, err := store.Rotate(ctx, Application(cfg), previousKeyLifetime)
	if err != nil {
		return keys.Rotation{}, err
	}
	audit.Record(ctx, auth.Event{
		Type:   auth.EventKeyRotated,
		Detail: fmt.Sprintf("application=%s new_kid=%s old_kid=%s resumed=%t", cfg.ApplicationID, rot.NewKeyID, rot.OldKeyID, rot.Resumed),
	})
	return rot, nil
}
