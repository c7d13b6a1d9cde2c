package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/internal/server"
	"github.com/sdkauth/sdkauth/keys"
)

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Generate, list and rotate the application's signing keys",
	}
	cmd.AddCommand(keysGenerateCmd(), keysListCmd(), keysRotateCmd())
	return cmd
}

func keysGenerateCmd() *cobra.Command {
	var privPath, pubPath string
	var force bool
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Write a new RSA-2048 key pair as PEM files (the private one mode 0600)",
		Long: `generate writes an RSA-2048 private key (PKCS#8 PEM, file mode 0600) and
its public key (PKIX PEM), the forms the Applications API takes. Existing
files are not overwritten unless --force is given.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runKeysGenerate(cmd.OutOrStdout(), privPath, pubPath, force)
		},
	}
	cmd.Flags().StringVar(&privPath, "private-key", "private.key", "file for the private key")
	cmd.Flags().StringVar(&pubPath, "public-key", "public.pem", "file for the public key")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	return cmd
}

func runKeysGenerate(out io.Writer, privPath, pubPath string, force bool) error {
	key, err := keys.GenerateKey()
	if err != nil {
		return err
	}
	if err := writeKeyFile(privPath, keys.EncodePrivateKeyPEM(key), 0o600, force); err != nil {
		return err
	}
	if err := writeKeyFile(pubPath, keys.EncodePublicKeyPEM(&key.PublicKey), 0o644, force); err != nil {
		return err
	}
	fmt.Fprintf(out, "Wrote %s (private, mode 0600) and %s (public).\nkid: %s\n", privPath, pubPath, keys.Thumbprint(&key.PublicKey))
	return nil
}

// writeKeyFile writes data to a new file with mode perm. Without force an
// existing file is an error, since overwriting a private key loses it.
// With force the mode is set again, in case the old file's was looser.
func writeKeyFile(path string, data []byte, perm os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, perm)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists; choose another file or pass --force", path)
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func keysListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the stored signing keys and their states",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(envOf(cmd.Context()), need{Database: true})
			if err != nil {
				return err
			}
			pool, err := db.Open(cmd.Context(), cfg.DatabaseURL)
			if err != nil {
				return err
			}
			defer pool.Close()
			// Listing needs no private half, so no encryption key.
			list, err := keys.NewStore(pool, nil, nil).List(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "KID\tSTATE\tCREATED\tACTIVATED\tVERIFIES UNTIL")
			for _, k := range list {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", k.KeyID, k.State, k.CreatedAt.UTC().Format(time.RFC3339), timeOrDash(k.ActivatedAt), timeOrDash(k.ExpiresAt))
			}
			return w.Flush()
		},
	}
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func keysRotateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "Generate a key, upload it to the Vonage application, and switch every replica to it",
		Long: `rotate generates an RSA-2048 key, uploads its public half to the Vonage
application (a PUT that keeps the rest of the application as it is), and
then makes it the active key, the old one staying trusted by sdkauth for
24 hours. Running servers switch at once (LISTEN/NOTIFY, else within
SDKAUTH_KEY_POLL). Vonage keeps one public key per application, so tokens
signed with the old key stop working at Vonage immediately; Client SDK apps
recover by refreshing. Two rotations at once are safe: one of them stops
before uploading anything. Run again after an interrupted rotation, it
finishes that one.

Needs DATABASE_URL, SDKAUTH_KEY_ENCRYPTION_KEY, VONAGE_APPLICATION_ID,
VONAGE_API_KEY and VONAGE_API_SECRET.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(envOf(cmd.Context()), need{Database: true, Key: true, VonageAPI: true})
			if err != nil {
				return err
			}
			return runKeysRotate(cmd.Context(), cfg, newLogger(cfg.LogLevel, false), cmd.OutOrStdout())
		},
	}
}

// runKeysRotate rotates the signing key as `sdkauth keys rotate` does.
func runKeysRotate(ctx context.Context, cfg config, log *slog.Logger, out io.Writer) error {
	pool, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	store, err := server.NewKeyStore(cfg, pool, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	// Fails early, before anything is uploaded, on a wrong encryption key.
	if _, err := store.Load(ctx, &keys.Ring{}); err != nil {
		return err
	}
	rot, err := server.RotateSigningKey(ctx, cfg, store, auth.NewAudit(pool, log))
	switch {
	case errors.Is(err, keys.ErrRotationInProgress), errors.Is(err, keys.ErrRotationConflict):
		return fmt.Errorf("%w; nothing was changed by this run", err)
	case err != nil:
		return err
	}
	if rot.Resumed {
		fmt.Fprintln(out, "Finished an interrupted rotation whose key was already uploaded.")
	}
	fmt.Fprintf(out, "Active key:   %s (uploaded to application %s)\nPrevious key: %s (sdkauth accepts its tokens until %s; Vonage no longer does)\n",
		rot.NewKeyID, cfg.ApplicationID, rot.OldKeyID, rot.PreviousExpiresAt.UTC().Format(time.RFC3339))
	return nil
}
