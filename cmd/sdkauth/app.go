package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/api"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/console"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/users"
	"github.com/sdkauth/sdkauth/vonage"
)

// app is the wired service: what `serve` and `dev` run.
type app struct {
	cfg     config
	log     *slog.Logger
	pool    *pgxpool.Pool
	handler http.Handler
	keys    *signingKeys
	// accounts holds the user services and the provisioning worker.
	accounts *accounts
}

func newApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	// The schema is checked first: the keys and policies live in it.
	if err := (&app{pool: pool}).checkSchema(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	sk, err := openSigningKeys(ctx, cfg, pool, log)
	if err != nil {
		pool.Close()
		return nil, err
	}
	policies := auth.NewPolicies(pool, cfg.TokenTTL, cfg.TokenMaxTTL, auth.NewAudit(pool, log))
	if err := policies.CheckExists(ctx, "SDKAUTH_DEFAULT_POLICY", cfg.DefaultPolicy); err != nil {
		sk.stop()
		pool.Close()
		return nil, err
	}
	// The ring is the Signer, so a rotation reaches the minter (and the
	// admin tokens for Vonage) without rewiring anything.
	_, signerName, err := keys.SignerFunc(cfg.Signer)
	if err != nil {
		sk.stop()
		pool.Close()
		return nil, err
	}
	metrics := api.NewMetrics(signerName)
	minter := &keys.Minter{ApplicationID: cfg.ApplicationID, Signer: metrics.TimeSigner(sk.ring)}
	client := vonage.New(cfg.VonageAPIURL, cachedAdminTokens(minter, sk.ring.KeyID),
		vonage.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
		vonage.WithUserAgent("sdkauth"),
		// Vonage refuses the old key the moment a rotation uploads the new
		// one: catch up with the rotation (waiting a moment for it to
		// activate the key) and send again, rather than leave a sign-up
		// pending.
		vonage.WithTokenRefused(func(ctx context.Context, refused string) bool {
			if keys.TokenKeyID(refused) != sk.ring.KeyID() {
				return true // the ring switched since that token was minted
			}
			return sk.store.CatchUp(ctx, sk.ring, 3*time.Second)
		}))
	hasher := auth.NewHasher(auth.Argon2Params{
		MemoryKiB:   cfg.Argon2MemoryKiB,
		Iterations:  cfg.Argon2Iterations,
		Parallelism: 1,
		SaltLen:     16,
		KeyLen:      32,
	}, 2*time.Second)
	acc := newAccounts(cfg, pool, client, hasher, log)
	metrics.WatchProvisioning(acc.prov.Stats)
	clients := auth.NewClients(pool, acc.throttle, acc.audit)
	tokens := &users.Tokens{
		Users:    acc.users,
		Sessions: acc.sessions,
		Policies: policies,
		Minter:   minter,
		Verifier: &keys.Verifier{
			ApplicationID: cfg.ApplicationID,
			Keys:          sk.ring.VerifyKeys,
			Unknown:       sk.reloadForUnknownKey(),
		},
		Audit:    acc.audit,
		AdminTTL: cfg.TokenTTL,
	}
	h := api.NewRouter(api.Deps{
		Ping:           pool.Ping,
		Users:          acc.users,
		Tokens:         tokens,
		Clients:        clients,
		Audit:          acc.audit,
		Sessions:       acc.sessions,
		Policies:       policies,
		PublicKeys:     sk.ring.PublicKeys,
		Logger:         log,
		TrustedProxies: cfg.TrustedProxies,
		Outage:         db.Outage,
		Metrics:        metrics,
		Provisioner:    acc.prov,
		Console: console.New(console.Deps{
			Sessions:     auth.NewConsoleSessions(pool, acc.audit),
			Clients:      clients,
			Users:        acc.users,
			UserSessions: acc.sessions,
			Policies:     policies,
			Audit:        acc.audit,
			Tokens:       tokens,
			Provisioner:  acc.prov,
			Keys:         consoleKeys{cfg: cfg, keys: sk, audit: acc.audit},
			Outage:       db.Outage,
			Logger:       log,
		}),
	})
	log.Info("signing key loaded", "kid", sk.ring.KeyID(), "application_id", cfg.ApplicationID)
	return &app{cfg: cfg, log: log, pool: pool, handler: h, keys: sk, accounts: acc}, nil
}

func (a *app) Close() {
	a.keys.stop()
	a.pool.Close()
}

// checkSchema refuses to run on a schema that is behind this binary.
func (a *app) checkSchema(ctx context.Context) error {
	m, err := db.NewMigrator(a.pool)
	if err != nil {
		return err
	}
	return m.CheckCurrent(ctx)
}

// serve runs the HTTP server on ln (nil: a listener on SDKAUTH_ADDR) until
// ctx ends, then drains it. listening, when not nil, is called once the
// socket is bound.
func (a *app) serve(ctx context.Context, ln net.Listener, listening func(addr string)) error {
	srv := newHTTPServer(a.handler)
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", a.cfg.Addr); err != nil {
			return fmt.Errorf("SDKAUTH_ADDR: listening on %s: %w", a.cfg.Addr, err)
		}
	}
	a.log.Info("sdkauth listening", "addr", ln.Addr().String())
	if listening != nil {
		listening(ln.Addr().String())
	}
	// The provisioning worker stops after the server has drained, so jobs
	// that the last requests queued are still picked up or left due.
	stopBackground := a.accounts.runBackground(context.WithoutCancel(ctx), a.log)
	defer stopBackground()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// newHTTPServer is the server serve runs. Its timeouts suit small
// requests; the user import, the one route with large bodies and long work,
// sets its own deadlines for its connection (api's importReadTimeout).
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
}

func loadPrivateKey(cfg config) (*rsa.PrivateKey, error) {
	pemBytes := []byte(cfg.PrivateKey)
	source := "VONAGE_PRIVATE_KEY"
	if cfg.PrivateKeyPath != "" {
		b, err := os.ReadFile(cfg.PrivateKeyPath)
		if err != nil {
			return nil, fmt.Errorf("VONAGE_PRIVATE_KEY_PATH: %w", err)
		}
		pemBytes, source = b, "VONAGE_PRIVATE_KEY_PATH"
	}
	key, err := keys.ParsePrivateKeyPEM(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return key, nil
}

// cachedAdminTokens returns a token source for the Vonage client that reuses
// one admin JWT until a minute before it expires, so calls to Vonage do not
// each pay for an RSA signature. The token is kept for the key that signed
// it (kid names the signing key now): after a rotation, Vonage accepts only
// the new key, so the next call mints a token with it.
func cachedAdminTokens(m *keys.Minter, kid func() string) vonage.TokenSource {
	var mu sync.Mutex
	var tok, tokKID string
	var exp time.Time
	return func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		current := kid()
		if tok != "" && tokKID == current && time.Until(exp) > time.Minute {
			return tok, nil
		}
		t, c, err := m.AdminToken(10*time.Minute, nil)
		if err != nil {
			return "", err
		}
		tok, tokKID, exp = t, current, c.ExpiresAt
		return tok, nil
	}
}
