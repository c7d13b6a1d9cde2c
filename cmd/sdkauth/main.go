// Command sdkauth is the sdkauth server and its admin tool: `serve` runs the
// HTTP API, `dev` runs everything locally with nothing set up by hand,
// `migrate` manages the database schema, and `keys`, `clients`, `users`,
// `app` and `jwt` do an operator's chores. It holds the flags, the
// environment (config.go) and the commands; the service they run is wired
// in internal/server. Its tests start the service end to end.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "sdkauth:", err)
		stop()
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "sdkauth",
		Short:         "Sign-up, login and Vonage Client SDK tokens for your app's users",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), devCmd(), migrateCmd(), clientsCmd(), jwtCmd(), keysCmd(), appCmd(), usersCmd())
	return root
}

func newLogger(level string, json bool) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if json {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API (the schema must be current: see migrate)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(envOf(cmd.Context()), need{Database: true, Key: true})
			if err != nil {
				return err
			}
			log := newLogger(cfg.LogLevel, true)
			slog.SetDefault(log)
			a, err := newApp(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer a.Close()
			return a.Serve(cmd.Context(), nil, nil)
		},
	}
}
