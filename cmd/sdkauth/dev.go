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
	"time"

	"github.com/spf13/cobra"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/pgtemp"
	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/internal/server"
	"github.com/sdkauth/sdkauth/keys"
)

// devEnvFile is where `sdkauth dev` writes the environment of its run, for
// the sdkauth commands of the walkthrough (`source .sdkauth-dev.env`).
const devEnvFile = ".sdkauth-dev.env"

func devCmd() *cobra.Command {
	var envFile string
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run sdkauth locally: a throwaway Postgres, the Vonage emulator, a generated key",
		Long: `dev runs the whole system on this machine with nothing set up by hand:
a throwaway Postgres unless DATABASE_URL is set, the in-process Vonage
emulator unless VONAGE_API_URL is set, a generated application key, the
schema migrated, and the server on SDKAUTH_ADDR (default :8080). It writes
the environment of the run (DATABASE_URL, SDKAUTH_KEY_ENCRYPTION_KEY, the
Vonage application, API URL, key and secret, and a private key file) to
--env-file, for the other sdkauth commands: source it in another terminal.
Ctrl-C stops everything, removes what it made and exits with status 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd.Context(), cmd.OutOrStdout(), envFile)
		},
	}
	cmd.Flags().StringVar(&envFile, "env-file", devEnvFile, "file for the environment of this run (mode 0600; removed on exit), and the key file beside it")
	return cmd
}

// runDev runs `sdkauth dev` until ctx ends, writing the run's environment to
// envFile (and the application's private key beside it) meanwhile.
func runDev(ctx context.Context, out io.Writer, envFile string) error {
	cfg, err := loadConfig(os.LookupEnv, need{})
	if err != nil {
		return err
	}
	// The port first: a taken one fails before anything is started.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("SDKAUTH_ADDR: cannot listen on %s (%w); stop what holds it or choose another address, e.g. SDKAUTH_ADDR=:8081 make run", cfg.Addr, err)
	}
	defer ln.Close()
	log := newLogger(cfg.LogLevel, false)
	generatedKEK := cfg.KeyEncryptionKey == nil
	if generatedKEK {
		// Stored keys then last as long as this run's database does; the
		// environment file makes the key known for the run.
		cfg.KeyEncryptionKey, _ = keys.ParseEncryptionKey(keys.NewEncryptionKey())
		log.Info("SDKAUTH_KEY_ENCRYPTION_KEY is unset: using a new one for this run (see " + envFile + ")")
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
	var devKey *rsa.PrivateKey // the active private key, when this run knows it
	if _, set := os.LookupEnv("VONAGE_API_URL"); !set {
		// The emulator's application gets the stored key, so that a
		// database kept from an earlier run still matches.
		pub, key, err := server.DevActiveKey(ctx, cfg, generatedKEK)
		if err != nil {
			return err
		}
		devKey = key
		stop, err := startEmulator(&cfg, pub)
		if err != nil {
			return err
		}
		defer stop()
	} else if cfg.ApplicationID == "" || (cfg.PrivateKey == "" && cfg.PrivateKeyPath == "") {
		return errors.New("with VONAGE_API_URL set, dev needs VONAGE_APPLICATION_ID and VONAGE_PRIVATE_KEY_PATH (or VONAGE_PRIVATE_KEY) for that platform")
	} else if cfg.PrivateKeyPath == "" {
		if devKey, err = server.LoadPrivateKey(cfg); err != nil {
			return err
		}
	}
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	remove, err := writeDevEnv(envFile, cfg, devKey)
	if err != nil {
		return err
	}
	defer remove()
	return a.Serve(ctx, ln, func(addr string) {
		printWalkthrough(out, devBase(addr), cfg.VonageAPIURL, cfg.ApplicationID, envFile)
	})
}

// devBase is how the walkthrough names sdkauth at addr: localhost for a
// wildcard address.
func devBase(addr string) string {
	if h, port, err := net.SplitHostPort(addr); err == nil && (h == "" || h == "::" || h == "0.0.0.0") {
		return "localhost:" + port
	}
	return addr
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
