package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/internal/contracttest"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/keys"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// stack is one sdkauth wired exactly as `serve` wires it, on its own
// database, talking to its own Vonage emulator over real HTTP.
type stack struct {
	t      testing.TB
	URL    string
	DBURL  string
	Em     *emulator.Emulator
	EmLog  *requestLog // when each emulator request arrived and was answered
	EmURL  string
	AppID  string
	Key    *rsa.PrivateKey
	App    *app
	client *http.Client
}

// newStack starts a stack; env overrides configuration variables.
func newStack(t testing.TB, env map[string]string) *stack {
	t.Helper()
	em := emulator.New(emulator.Config{APIKey: "key", APISecret: "secret"})
	emLog := newRequestLog(em)
	ems := httptest.NewServer(emLog)
	t.Cleanup(ems.Close)
	key := testkit.Key(t, 0)
	appID, err := em.AddApplication("test", string(keys.EncodePublicKeyPEM(&key.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"DATABASE_URL":               dbtest.NewURL(t),
		"VONAGE_APPLICATION_ID":      appID,
		"VONAGE_PRIVATE_KEY":         string(keys.EncodePrivateKeyPEM(key)),
		"VONAGE_API_URL":             ems.URL,
		"SDKAUTH_ARGON2_MEMORY_KIB":  "64",
		"SDKAUTH_ARGON2_ITERATIONS":  "1",
		"SDKAUTH_KEY_ENCRYPTION_KEY": keys.NewEncryptionKey(),
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := loadConfig(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, need{database: true, key: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	// The provisioning worker runs as under serve; it stops (after the
	// server, before the pool closes) when the test ends.
	t.Cleanup(a.Accounts.RunBackground(context.Background(), a.Log))
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return &stack{
		t: t, URL: srv.URL, DBURL: vars["DATABASE_URL"], Em: em, EmLog: emLog, EmURL: ems.URL, AppID: appID, Key: key, App: a,
		client: &http.Client{Transport: contracttest.Transport(t, nil)},
	}
}

// response is a decoded HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

func (s *stack) do(method, path, contentType string, body io.Reader, header ...string) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// postJSON sends v (a string is sent as it is) as a JSON body.
func (s *stack) postJSON(path string, v any, header ...string) response {
	s.t.Helper()
	var b []byte
	if str, ok := v.(string); ok {
		b = []byte(str)
	} else {
		b, _ = json.Marshal(v)
	}
	return s.do(http.MethodPost, path, "application/json", bytes.NewReader(b), header...)
}

func (s *stack) postForm(path string, form url.Values) response {
	s.t.Helper()
	return s.do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// signup signs a new user up and fails the test unless it answers 201.
func (s *stack) signup(username, password string) map[string]any {
	s.t.Helper()
	r := s.postJSON("/v1/signup", map[string]string{"username": username, "password": password})
	if r.Status != http.StatusCreated {
		s.t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	return r.JSON(s.t)
}

// emulatorDo calls the Vonage emulator with a bearer token.
func (s *stack) emulatorDo(method, path, token string) response {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.EmURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// count returns the number of rows in table.
func (s *stack) count(table string) int {
	s.t.Helper()
	return dbtest.Count(s.t, s.App.Pool, table)
}

// user returns the stored row of the user named name.
func (s *stack) user(name string) db.User {
	s.t.Helper()
	u, err := db.New(s.App.Pool).GetUserByUsername(context.Background(), name)
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// run executes an sdkauth command line in-process with the stack's database
// and application key in its environment, returning what it printed.
func (s *stack) run(args ...string) (string, error) {
	s.t.Helper()
	return s.runWith(nil, args...)
}

// runWith is run with more variables in the command's environment, which
// holds only the stack's: tests run commands side by side.
func (s *stack) runWith(env map[string]string, args ...string) (string, error) {
	s.t.Helper()
	vars := map[string]string{
		"DATABASE_URL":          s.DBURL,
		"VONAGE_APPLICATION_ID": s.AppID,
		"VONAGE_PRIVATE_KEY":    string(keys.EncodePrivateKeyPEM(s.Key)),
	}
	maps.Copy(vars, env)
	var out bytes.Buffer
	cmd := rootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(withEnv(context.Background(), func(k string) (string, bool) { v, ok := vars[k]; return v, ok }))
	return out.String(), err
}
