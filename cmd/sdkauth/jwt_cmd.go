package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sdkauth/sdkauth/internal/server"
	"github.com/sdkauth/sdkauth/keys"
)

// jwtKeyFlags name the application and key a token is minted with or
// checked against; they default to the server's environment.
type jwtKeyFlags struct {
	appID   string
	keyPath string
}

func (f *jwtKeyFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.appID, "app-id", "", "Vonage application id (default $VONAGE_APPLICATION_ID)")
	cmd.Flags().StringVar(&f.keyPath, "private-key", "", "PEM file of the application's private key (default $VONAGE_PRIVATE_KEY_PATH or $VONAGE_PRIVATE_KEY)")
}

// resolve returns the application id and key; key is nil when none is
// configured and required is false.
func (f *jwtKeyFlags) resolve(ctx context.Context, required bool) (string, *rsa.PrivateKey, error) {
	appID := f.appID
	if appID == "" {
		appID = getenv(ctx, "VONAGE_APPLICATION_ID")
	}
	cfg := config{PrivateKeyPath: f.keyPath}
	if cfg.PrivateKeyPath == "" {
		cfg.PrivateKeyPath = getenv(ctx, "VONAGE_PRIVATE_KEY_PATH")
		cfg.PrivateKey = getenv(ctx, "VONAGE_PRIVATE_KEY")
	}
	if cfg.PrivateKeyPath == "" && cfg.PrivateKey == "" {
		if required {
			return "", nil, errors.New("no private key: pass --private-key or set VONAGE_PRIVATE_KEY_PATH")
		}
		return appID, nil, nil
	}
	if required && appID == "" {
		return "", nil, errors.New("no application id: pass --app-id or set VONAGE_APPLICATION_ID")
	}
	key, err := server.LoadPrivateKey(cfg)
	return appID, key, err
}

func jwtCmd() *cobra.Command {
	var kf jwtKeyFlags
	var sub, aclJSON, ttl string
	var exp int64
	cmd := &cobra.Command{
		Use:   "jwt",
		Short: "Mint a Vonage JWT with the application key (like `vonage jwt create`)",
		Long: `jwt prints a Vonage JWT signed with the application's private key.
With --sub it is a user token for that Vonage user name (with the default
Client SDK ACL unless --acl is given); without, an admin token.`,
		Example: `  sdkauth jwt --sub new-user --ttl 3600
  sdkauth jwt --acl '{"paths":{"/*/users/**":{"methods":["GET"]}}}'
  sdkauth jwt inspect "$TOKEN"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			appID, key, err := kf.resolve(cmd.Context(), true)
			if err != nil {
				return err
			}
			now := time.Unix(time.Now().Unix(), 0)
			life, err := tokenLifetime(ttl, exp, cmd.Flags().Changed("ttl"), now)
			if err != nil {
				return err
			}
			var acl *keys.ACL
			if aclJSON != "" {
				a, err := keys.ParseACL([]byte(aclJSON))
				if err != nil {
					return fmt.Errorf("--acl: %w", err)
				}
				acl = &a
			}
			m := &keys.Minter{ApplicationID: appID, Signer: keys.NewGoSigner(key), Now: func() time.Time { return now }}
			var tok string
			if sub != "" {
				if acl == nil {
					d := keys.DefaultACL()
					acl = &d
				}
				tok, _, err = m.UserToken(sub, *acl, life)
			} else {
				tok, _, err = m.AdminToken(life, acl)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			return nil
		},
	}
	kf.register(cmd)
	cmd.Flags().StringVar(&sub, "sub", "", "Vonage user name: makes a user token")
	cmd.Flags().StringVar(&aclJSON, "acl", "", `ACL as JSON, e.g. '{"paths":{"/*/users/**":{}}}'`)
	cmd.Flags().StringVar(&ttl, "ttl", "900", "lifetime: seconds or a Go duration (30s to 24h)")
	cmd.Flags().Int64Var(&exp, "exp", 0, "expiry as seconds since the epoch (instead of --ttl; within 24 h)")
	cmd.AddCommand(jwtInspectCmd())
	return cmd
}

// tokenLifetime reads --ttl (seconds or a Go duration) or --exp (epoch
// seconds), refusing both at once and anything outside Vonage's limits.
func tokenLifetime(ttl string, exp int64, ttlSet bool, now time.Time) (time.Duration, error) {
	if exp != 0 {
		if ttlSet {
			return 0, errors.New("give --ttl or --exp, not both")
		}
		d := time.Unix(exp, 0).Sub(now)
		if d <= 0 {
			return 0, fmt.Errorf("--exp %d is not in the future", exp)
		}
		if d < keys.MinTTL || d > keys.MaxTTL {
			return 0, fmt.Errorf("--exp must be between 30 s and 24 h from now (it is %s away)", d)
		}
		return d, nil
	}
	d, err := time.ParseDuration(ttl)
	if n, nerr := strconv.ParseInt(strings.TrimSpace(ttl), 10, 64); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil {
		return 0, fmt.Errorf("--ttl %q is neither seconds nor a duration", ttl)
	}
	if d < keys.MinTTL || d > keys.MaxTTL {
		return 0, fmt.Errorf("--ttl must be between 30 s and 86400 s (24 h), Vonage's limit; got %d s", int64(d/time.Second))
	}
	return d, nil
}
