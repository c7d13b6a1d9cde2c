package server

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

// Server is the wired service: what `serve` and `dev` run.
type Server struct {
	Config  Config
	Log     *slog.Logger
	Pool    *pgxpool.Pool
	Handler http.Handler
	Keys    *SigningKeys
	// Accounts holds the user services and the provisioning worker.
	Accounts *Accounts
}

// New connects to Postgres, checks that the schema is current, opens the
// signing keys (importing the environment's key on a first start, checking
// it against the Vonage application when API credentials are set, and
// following rotations), checks the default policy, and wires every
// service behind the HTTP handler. Close releases what it opened.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	// The schema is checked first: the keys and policies live in it.
	if err := checkSchema(ctx, pool); err != nil {
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
	minter := &keys.Minter{ApplicationID: cfg.ApplicationID, Signer: metrics.TimeSigner(sk.Ring)}
	client := vonage.New(cfg.VonageAPIURL, cachedAdminTokens(minter, sk.Ring.KeyID),
		vonage.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
		vonage.WithUserAgent("sdkauth"),
		// Vonage refuses the old key the moment a rotation uploads the new
		// one: catch up with the rotation (waiting a moment for it to
		// activate the key) and send again, rather than leave a sign-up
		// pending.
		vonage.WithTokenRefused(func(ctx context.Context, refused string) bool {
			if keys.TokenKeyID(refused) != sk.Ring.KeyID() {
				return true // the ring switched since that token was minted
			}
			return sk.Store.CatchUp(ctx, sk.Ring, 3*time.Second)
		}))
	hasher := auth.NewHasher(auth.Argon2Params{
		MemoryKiB:   cfg.Argon2MemoryKiB,
		Iterations:  cfg.Argon2Iterations,
		Parallelism: 1,
		SaltLen:     16,
		KeyLen:      32,
	}, 2*time.Second)
	if !auth.HashesInArenas() {
		log.Warn("argon2id: golang.org/x/crypto/argon2's internals differ from what auth/argon2.go expects; each password hash allocates its own memory (argon2.IDKey)")
	}
	acc := newAccounts(cfg, pool, client, hasher, policies, log)
	metrics.WatchProvisioning(acc.Provisioner.Stats)
	clients := auth.NewClients(pool, acc.Throttle, acc.Audit)
	tokens := &users.Tokens{
		Users:    acc.Users,
		Sessions: acc.Sessions,
		Policies: policies,
		Minter:   minter,
		Verifier: &keys.Verifier{
			ApplicationID: cfg.ApplicationID,
			Keys:          sk.Ring.VerifyKeys,
			Key:           sk.Ring.VerifyKey,
			Unknown:       sk.reloadForUnknownKey(),
		},
		Audit:    acc.Audit,
		AdminTTL: cfg.TokenTTL,
	}
	h := api.NewRouter(api.Deps{
		Ping:           pool.Ping,
		Users:          acc.Users,
		Tokens:         tokens,
		Clients:        clients,
		Audit:          acc.Audit,
		Sessions:       acc.Sessions,
		Policies:       policies,
		PublicKeys:     sk.Ring.PublicKeys,
		Logger:         log,
		TrustedProxies: cfg.TrustedProxies,
		Outage:         db.Outage,
		Metrics:        metrics,
		Provisioner:    acc.Provisioner,
		Console: console.New(console.Deps{
			Sessions:     auth.NewConsoleSessions(pool, acc.Audit),
			Clients:      clients,
			Users:        acc.Users,
			UserSessions: acc.Sessions,
			Policies:     policies,
			Audit:        acc.Audit,
			Tokens:       tokens,
			Provisioner:  acc.Provisioner,
			Keys:         consoleKeys{cfg: cfg, keys: sk, audit: acc.Audit},
			Outage:       db.Outage,
			Logger:       log,
		}),
	})
	log.Info("signing key loaded", "kid", sk.Ring.KeyID(), "application_id", cfg.ApplicationID)
	return &Server{Config: cfg, Log: log, Pool: pool, Handler: h, Keys: sk, Accounts: acc}, nil
}

// Close stops following key rotations and closes the pool.
func (a *Server) Close() {
	a.Keys.stop()
	a.Pool.Close()
}

// checkSchema refuses to run on a schema that is behind this binary.
func checkSchema(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := db.NewMigrator(pool)
	if err != nil {
		return err
	}
	return m.CheckCurrent(ctx)
}

// Serve runs the HTTP server on ln (nil: a listener on SDKAUTH_ADDR) until
// ctx ends, then drains it. listening, when not nil, is called once the
// socket is bound.
func (a *Server) Serve(ctx context.Context, ln net.Listener, listening func(addr string)) error {
	srv := NewHTTPServer(a.Handler)
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", a.Config.Addr); err != nil {
			return fmt.Errorf("SDKAUTH_ADDR: listening on %s: %w", a.Config.Addr, err)
		}
	}
	a.Log.Info("sdkauth listening", "addr", ln.Addr().String())
	if listening != nil {
		listening(ln.Addr().String())
	}
	// The provisioning worker stops after the server has drained, so jobs
	// that the last requests queued are still picked up or left due.
	stopBackground := a.Accounts.RunBackground(context.WithoutCancel(ctx), a.Log)
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

// NewHTTPServer is the server Serve runs. Its timeouts suit small
// requests; the user import, the one route with large bodies and long work,
// sets its own deadlines for its connection (api's importReadTimeout).
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
	}
}

// LoadPrivateKey reads the application's private key from
// VONAGE_PRIVATE_KEY_PATH or VONAGE_PRIVATE_KEY.
func LoadPrivateKey(cfg Config) (*rsa.PrivateKey, error) {
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
