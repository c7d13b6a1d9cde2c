package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/internal/contracttest"
	"github.com/sdkauth/sdkauth/internal/server"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/keys"
)

// TestAppCreateKeyWorksForServe is acceptance 5: `sdkauth app create`
// against the emulator, then a server started with what it printed signs
// tokens the emulator accepts.
func TestAppCreateKeyWorksForServe(t *testing.T) {
	t.Parallel()
	em := emulator.New(emulator.Config{APIKey: "key", APISecret: "secret"})
	ems := httptest.NewServer(em)
	t.Cleanup(ems.Close)
	vars := map[string]string{"VONAGE_API_URL": ems.URL, "VONAGE_API_KEY": "key", "VONAGE_API_SECRET": "secret"}
	cfg, err := loadConfig(mapEnv(vars), need{VonageAPI: true})
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(t.TempDir(), "private.key")
	var out bytes.Buffer
	id, err := runAppCreate(context.Background(), cfg, appCreateOptions{Name: "my-app", RTCEventURL: "https://example.com/rtc", KeyPath: keyPath}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "VONAGE_APPLICATION_ID="+id+"\n") || !strings.Contains(out.String(), "VONAGE_PRIVATE_KEY_PATH="+keyPath+"\n") {
		t.Fatalf("app create printed:\n%s", out.String())
	}
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi.Mode(), err)
	}

	// The application has the rtc capability and the key's public half.
	app, err := server.ApplicationsClient(cfg).GetApplication(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	caps, _ := json.Marshal(app.Capabilities)
	if !strings.Contains(string(caps), `"rtc":{"webhooks":{"event_url":{"address":"https://example.com/rtc","http_method":"POST"}}}`) || app.Name != "my-app" {
		t.Fatalf("application %s %s", app.Name, caps)
	}

	// A second run does not overwrite the key file.
	if _, err := runAppCreate(context.Background(), cfg, appCreateOptions{Name: "other-app", KeyPath: keyPath}, io.Discard); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("a second create over the key file: %v", err)
	}

	// serve with the printed environment (and the start-up key check).
	for _, line := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.HasPrefix(k, "VONAGE_") {
			vars[k] = v
		}
	}
	vars["DATABASE_URL"] = dbtest.NewURL(t)
	vars["SDKAUTH_KEY_ENCRYPTION_KEY"] = keys.NewEncryptionKey()
	vars["SDKAUTH_ARGON2_MEMORY_KIB"], vars["SDKAUTH_ARGON2_ITERATIONS"] = "64", "1"
	scfg, err := loadConfig(mapEnv(vars), need{Database: true, Key: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), scfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("serve with the created application: %v", err)
	}
	t.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	s := &servertest.Stack{T: t, URL: srv.URL, Em: em, EmURL: ems.URL, AppID: id, App: a, Client: &http.Client{Transport: contracttest.Transport(t, nil)}}
	tok := s.Signup("new-user", "correct horse battery")["access_token"].(string)
	if r := s.EmulatorDo(http.MethodGet, "/v1/users", tok); r.Status != http.StatusOK {
		t.Fatalf("the emulator refuses the token: %d %s", r.Status, r.Body)
	}
}

func TestKeysGenerateWritesAPair(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, pub := filepath.Join(dir, "private.key"), filepath.Join(dir, "public.pem")
	var out bytes.Buffer
	if err := runKeysGenerate(&out, priv, pub, false); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(priv)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v, %v", fi.Mode(), err)
	}
	privPEM, _ := os.ReadFile(priv)
	pubPEM, _ := os.ReadFile(pub)
	k, err := keys.ParsePrivateKeyPEM(privPEM)
	if err != nil || k.N.BitLen() != 2048 {
		t.Fatalf("private key: %v", err)
	}
	p, err := keys.ParsePublicKeyPEM(pubPEM)
	if err != nil || !p.Equal(&k.PublicKey) {
		t.Fatalf("the public key is not the private key's: %v", err)
	}
	if !strings.Contains(out.String(), keys.Thumbprint(p)) {
		t.Fatalf("generate printed %q without the kid", out.String())
	}
	if err := runKeysGenerate(io.Discard, priv, pub, false); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("overwrote without --force: %v", err)
	}
	if after, _ := os.ReadFile(priv); !bytes.Equal(after, privPEM) {
		t.Fatal("the refused run changed the private key")
	}
	if err := os.Chmod(priv, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runKeysGenerate(io.Discard, priv, pub, true); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(priv); fi.Mode().Perm() != 0o600 {
		t.Fatalf("--force left mode %v", fi.Mode())
	}
}

func mapEnv(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}
