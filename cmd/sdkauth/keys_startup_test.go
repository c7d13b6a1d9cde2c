package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/internal/server"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/keys"
)

var withVonageAPI = map[string]string{"VONAGE_API_KEY": "key", "VONAGE_API_SECRET": "secret"}

// sealedKeys returns the stored private halves by kid.
func sealedKeys(t *testing.T, s *stack) map[string][]byte {
	t.Helper()
	rows, err := db.New(s.App.Pool).ListSealedKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, r := range rows {
		out[r.ID] = r.PrivateKey
	}
	return out
}

// TestStartupRefusesAKeyTheApplicationDoesNotHave is acceptance 1 through
// newApp, the path `serve` takes.
func TestStartupRefusesAKeyTheApplicationDoesNotHave(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, withVonageAPI) // the right key: it starts
	if r := s.Do(http.MethodGet, "/readyz", "", nil); r.Status != http.StatusOK {
		t.Fatalf("readyz %d", r.Status)
	}
	wrong := testkit.Key(t, 1)
	appKID, wrongKID := keys.Thumbprint(&s.Key.PublicKey), keys.Thumbprint(&wrong.PublicKey)

	// A first start with a key the application does not have stores
	// nothing, so fixing the environment is enough.
	cfg := s.App.Config
	cfg.DatabaseURL = dbtest.NewURL(t)
	cfg.PrivateKey = string(keys.EncodePrivateKeyPEM(wrong))
	_, err := newApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "does not match") || !strings.Contains(err.Error(), appKID) || !strings.Contains(err.Error(), wrongKID) {
		t.Fatalf("start-up with the wrong key: %v", err)
	}
	cfg.PrivateKey = string(keys.EncodePrivateKeyPEM(s.Key))
	a, err := newApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("start-up with the right key after a refused one: %v", err)
	}
	a.Close()

	// A stored key the application no longer has (rotated elsewhere) is
	// refused too, naming the key Vonage has.
	if err := server.Application(s.App.Config).SetPublicKeyPEM(ctx, string(keys.EncodePublicKeyPEM(&wrong.PublicKey))); err != nil {
		t.Fatal(err)
	}
	_, err = newApp(ctx, s.App.Config, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "does not match") || !strings.Contains(err.Error(), wrongKID) {
		t.Fatalf("start-up after the application's key changed: %v", err)
	}
}

func TestStartupNeedsTheRightEncryptionKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, nil)
	before := sealedKeys(t, s)

	cfg := s.App.Config
	cfg.KeyEncryptionKey, _ = keys.ParseEncryptionKey(keys.NewEncryptionKey())
	_, err := newApp(ctx, cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "SDKAUTH_KEY_ENCRYPTION_KEY does not decrypt the stored signing key") {
		t.Fatalf("start-up with another encryption key: %v", err)
	}
	after := sealedKeys(t, s)
	if len(after) != 1 || len(before) != 1 {
		t.Fatalf("keys before %d, after %d", len(before), len(after))
	}
	for kid, b := range before {
		if !bytes.Equal(after[kid], b) {
			t.Fatal("a start-up with the wrong encryption key overwrote the stored key")
		}
	}

	_, err = loadConfig(func(k string) (string, bool) {
		if k == "DATABASE_URL" || k == "VONAGE_APPLICATION_ID" {
			return "x", true
		}
		return "", false
	}, need{Database: true, Key: true})
	if err == nil || !strings.Contains(err.Error(), "SDKAUTH_KEY_ENCRYPTION_KEY is required") {
		t.Fatalf("no encryption key: %v", err)
	}
	_, err = loadConfig(func(k string) (string, bool) {
		if k == "SDKAUTH_KEY_ENCRYPTION_KEY" {
			return "c2hvcnQ=", true
		}
		return "", false
	}, need{})
	if err == nil || !strings.Contains(err.Error(), "SDKAUTH_KEY_ENCRYPTION_KEY: decodes to 5 bytes") {
		t.Fatalf("a short encryption key: %v", err)
	}
}

// TestStoredKeyIsAuthoritative: once a key is stored, a different key in
// the environment is reported, not used.
func TestStoredKeyIsAuthoritative(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	other := testkit.Key(t, 1)
	path := filepath.Join(t.TempDir(), "other.key")
	if err := os.WriteFile(path, keys.EncodePrivateKeyPEM(other), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := s.App.Config
	cfg.PrivateKey, cfg.PrivateKeyPath = "", path
	var logs bytes.Buffer
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Keys.Ring.KeyID() != keys.Thumbprint(&s.Key.PublicKey) {
		t.Fatal("the environment's key replaced the stored one")
	}
	if !strings.Contains(logs.String(), "not the stored active key") || !strings.Contains(logs.String(), keys.Thumbprint(&other.PublicKey)) {
		t.Fatalf("the different key was not reported:\n%s", logs.String())
	}
	// And with no key in the environment at all, the stored one serves.
	cfg.PrivateKeyPath = ""
	b, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("start-up from the stored key alone: %v", err)
	}
	b.Close()
}
