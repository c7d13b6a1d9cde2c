package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/sdkauth/sdkauth/internal/server"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/vonage"
)

func appCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Manage the Vonage application sdkauth signs for",
	}
	cmd.AddCommand(appCreateCmd())
	return cmd
}

// appCreateOptions are the flags of `sdkauth app create`.
type appCreateOptions struct {
	Name        string
	RTCEventURL string
	KeyPath     string
	Force       bool
}

func appCreateCmd() *cobra.Command {
	var o appCreateOptions
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a Vonage application with the rtc capability and write its private key",
		Long: `create makes a Vonage application with the rtc (Client SDK) capability
through the Applications API v2, as ` + "`nexmo app:create`" + ` does. The key pair is
generated here and only the public half is sent, so the private key never
crosses the network; it is written to --private-key with mode 0600. It
prints the application id and the environment lines for sdkauth.

Needs VONAGE_API_KEY and VONAGE_API_SECRET (and VONAGE_API_URL for another
platform than api.nexmo.com).`,
		Example: `  sdkauth app create --name my-app --rtc-event-url https://example.com/webhooks/rtc`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(envOf(cmd.Context()), need{VonageAPI: true})
			if err != nil {
				return err
			}
			_, err = runAppCreate(cmd.Context(), cfg, o, cmd.OutOrStdout())
			return err
		},
	}
	cmd.Flags().StringVar(&o.Name, "name", "", "application name (required)")
	cmd.Flags().StringVar(&o.RTCEventURL, "rtc-event-url", "", "URL Vonage sends RTC events to (POST)")
	cmd.Flags().StringVar(&o.KeyPath, "private-key", "private.key", "file to write the private key to")
	cmd.Flags().BoolVar(&o.Force, "force", false, "overwrite an existing private key file")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

// runAppCreate creates the application as `sdkauth app create` does and
// returns its id. Everything that can be checked is checked before the
// application is made, so that a failure leaves no application without
// its key.
func runAppCreate(ctx context.Context, cfg config, o appCreateOptions, out io.Writer) (string, error) {
	if o.Name == "" {
		return "", errors.New("--name is required")
	}
	if o.RTCEventURL != "" {
		if u, err := url.Parse(o.RTCEventURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "", fmt.Errorf("--rtc-event-url: %q is not an http(s) URL", o.RTCEventURL)
		}
	}
	keyPath, err := filepath.Abs(o.KeyPath)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(keyPath); err == nil && !o.Force {
		return "", fmt.Errorf("%s exists; choose another file with --private-key or pass --force", keyPath)
	}
	key, err := keys.GenerateKey()
	if err != nil {
		return "", err
	}
	rtc := map[string]any{}
	if o.RTCEventURL != "" {
		rtc["webhooks"] = map[string]any{"event_url": map[string]any{"address": o.RTCEventURL, "http_method": "POST"}}
	}
	app, err := server.ApplicationsClient(cfg).CreateApplication(ctx, vonage.Application{
		Name:         o.Name,
		Keys:         vonage.ApplicationKeys{PublicKey: string(keys.EncodePublicKeyPEM(&key.PublicKey))},
		Capabilities: map[string]any{"rtc": rtc},
	})
	if err != nil {
		return "", fmt.Errorf("creating the application: %w", err)
	}
	if err := writeKeyFile(keyPath, keys.EncodePrivateKeyPEM(key), 0o600, o.Force); err != nil {
		return "", fmt.Errorf("application %s was created but its private key could not be written (delete the application and try again): %w", app.ID, err)
	}
	fmt.Fprintf(out, `Created application %s (%q) with the rtc capability.
Private key written to %s (mode 0600); Vonage keeps only the public key.

Run sdkauth with:
  VONAGE_APPLICATION_ID=%s
  VONAGE_PRIVATE_KEY_PATH=%s
  SDKAUTH_KEY_ENCRYPTION_KEY=$(openssl rand -base64 32)   # once, then keep it: it seals the stored key
`, app.ID, o.Name, keyPath, app.ID, keyPath)
	return app.ID, nil
}
