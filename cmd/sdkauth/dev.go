package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/pgtemp"
	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/keys"
)

func devCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: "Run sdkauth locally: a throwaway Postgres, the Vonage emulator, a generated key",
		Long: `dev runs the whole system on this machine with nothing set up by hand:
a throwaway Postgres unless DATABASE_URL is set, the in-process Vonage
emulator unless VONAGE_API_URL is set, a generated application key, the
schema migrated, and the server on SDKAUTH_ADDR (default :8080). Ctrl-C
stops everything and removes what it made.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd.Context(), cmd.OutOrStdout())
		},
	}
}

func runDev(ctx context.Context, out io.Writer) error {
	cfg, err := loadConfig(os.LookupEnv, need{})
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, false)
	generatedKEK := cfg.KeyEncryptionKey == nil
	if generatedKEK {
		// Stored keys then last as long as this run's database does.
		cfg.KeyEncryptionKey, _ = keys.ParseEncryptionKey(keys.NewEncryptionKey())
		log.Info("SDKAUTH_KEY_ENCRYPTION_KEY is unset: using a new one for this run")
	}
	if cfg.DatabaseURL == "" {
		fmt.Fprintln(out, "Starting a throwaway Postgres…")
		cluster, err := pgtemp.Start(ctx, pgtemp.Options{Port: devPostgresPort()})
		if err != nil {
			return err
		}
		defer cluster.Stop()
		cfg.DatabaseURL = cluster.URL
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	m, err := db.NewMigrator(pool)
	if err == nil {
		_, err = m.Up(ctx)
	}
	pool.Close()
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	if _, set := os.LookupEnv("VONAGE_API_URL"); !set {
		// The emulator's application gets the stored key, so that a
		// database kept from an earlier run still matches.
		pub, err := devActiveKey(ctx, cfg, generatedKEK)
		if err != nil {
			return err
		}
		stop, err := startEmulator(&cfg, pub)
		if err != nil {
			return err
		}
		defer stop()
	} else if cfg.ApplicationID == "" || (cfg.PrivateKey == "" && cfg.PrivateKeyPath == "") {
		return errors.New("with VONAGE_API_URL set, dev needs VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY_PATH (or VONAGE_PRIVATE_KEY) for that platform")
	}
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.serve(ctx, func(addr string) { printWalkthrough(out, cfg, addr) })
}

// devPostgresPort is the fixed port the README's walkthrough names, or a
// free one when something else holds it.
func devPostgresPort() int {
	const port = 54329
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return 0
	}
	ln.Close()
	return port
}

// devEmulatorPort is where `sdkauth dev` serves the Vonage emulator (REST and
// the Client SDK's socket at /v2/rtc) when the port is free.
const devEmulatorPort = 8090

// startEmulator serves the Vonage emulator on a free loopback port with an
// application holding pub, sdkauth's signing key.
func startEmulator(cfg *config, pub *rsa.PublicKey) (stop func(), err error) {
	em := emulator.New(emulator.Config{APIKey: "sdkauth-dev", APISecret: "sdkauth-dev-secret"})
	appID, err := em.AddApplication("sdkauth-dev", string(keys.EncodePublicKeyPEM(pub)))
	if err != nil {
		return nil, err
	}
	// A fixed port, so that a Client SDK app can be pointed at it once; a
	// free one when something else holds it (the walkthrough names it).
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", devEmulatorPort))
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: em, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	cfg.VonageAPIURL = "http://" + ln.Addr().String()
	cfg.ApplicationID = appID
	cfg.VonageAPIKey, cfg.VonageAPISecret = "sdkauth-dev", "sdkauth-dev-secret"
	return func() { _ = srv.Close(); em.Close() }, nil
}

func printWalkthrough(out io.Writer, cfg config, addr string) {
	host := addr
	if h, port, err := net.SplitHostPort(addr); err == nil && (h == "" || h == "::" || h == "0.0.0.0") {
		host = "localhost:" + port
	}
	base := "http://" + host
	r := strings.NewReplacer("{{BASE}}", base, "{{VONAGE}}", cfg.VonageAPIURL, "{{APP}}", cfg.ApplicationID, "{{DB}}", cfg.DatabaseURL)
	fmt.Fprint(out, r.Replace(`
sdkauth is running at {{BASE}}
  Vonage API: {{VONAGE}}   application: {{APP}}

Try it in another terminal:

  # 1. Sign a new user up: 201 with a Client SDK JWT and a refresh token
  curl -s {{BASE}}/v1/signup -H 'Content-Type: application/json' \
    -d '{"username":"new-user","password":"correct horse battery","display_name":"A New User"}'

  # 2. Log in and keep the tokens
  RESP=$(curl -s {{BASE}}/v1/token -d grant_type=password -d username=new-user -d 'password=correct horse battery')
  ACCESS=$(echo "$RESP" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
  REFRESH=$(echo "$RESP" | sed -E 's/.*"refresh_token":"([^"]+)".*/\1/')

  # 3. Who am I?
  curl -s {{BASE}}/v1/me -H "Authorization: Bearer $ACCESS"

  # 4. The same token opens a session at Vonage (here, the emulator)
  curl -s {{VONAGE}}/v1/users?name=new-user -H "Authorization: Bearer $ACCESS"

  # 5. Refresh: a new pair; the old refresh token is spent
  curl -s {{BASE}}/v1/token -d grant_type=refresh_token -d "refresh_token=$REFRESH"

  # 6. The public key that verifies every token
  curl -s {{BASE}}/.well-known/jwks.json

  # 7. A backend service and admin tool: create a client (its secret is shown once), then get an admin JWT
  export DATABASE_URL='{{DB}}'
  CLIENT=$(go run ./cmd/sdkauth clients create --name backend --scopes admin,tokens:admin,tokens:user --output json)
  CLIENT_ID=$(echo "$CLIENT" | sed -E 's/.*"client_id":"([^"]+)".*/\1/')
  CLIENT_SECRET=$(echo "$CLIENT" | sed -E 's/.*"client_secret":"([^"]+)".*/\1/')
  curl -s {{BASE}}/v1/token -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials

  # 8. The admin API: list users (cursor-paginated), mint a token for one
  curl -s "{{BASE}}/v1/admin/users?page_size=10" -u "$CLIENT_ID:$CLIENT_SECRET"
  USER_ID=$(curl -s "{{BASE}}/v1/admin/users?username=new-user" -u "$CLIENT_ID:$CLIENT_SECRET" | sed -E 's/.*"id":"([^"]+)".*/\1/')
  curl -s -X POST "{{BASE}}/v1/admin/users/$USER_ID/token" -u "$CLIENT_ID:$CLIENT_SECRET" -H 'Content-Type: application/json' -d '{"ttl":600}'
`+workshopFlow+`
Ctrl-C stops everything.
`))
}
