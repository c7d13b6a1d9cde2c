// Package servertest starts sdkauth in-process for tests: the service wired
// exactly as `serve` wires it (internal/server), on its own throwaway
// database, talking to its own Vonage emulator over real HTTP, with every
// response checked against openapi.yaml (internal/contracttest). The HTTP
// behaviour tests beside api/ and the command tests in cmd/sdkauth use it.
package servertest

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/internal/contracttest"
	"github.com/sdkauth/sdkauth/internal/server"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/keys"
)

// Stack is one sdkauth wired exactly as `serve` wires it, on its own
// database, talking to its own Vonage emulator over real HTTP.
type Stack struct {
	T     testing.TB
	URL   string
	DBURL string
	Em    *emulator.Emulator
	EmLog *RequestLog // when each emulator request arrived and was answered
	EmURL string
	AppID string
	Key   *rsa.PrivateKey
	App   *server.Server
	// Client sends the requests of Do and checks each Response against
	// openapi.yaml.
	Client *http.Client
}

// New starts a stack; env overrides configuration variables (as read by
// server.LoadConfig).
func New(t testing.TB, env map[string]string) *Stack {
	t.Helper()
	em := emulator.New(emulator.Config{APIKey: "key", APISecret: "secret"})
	emLog := NewRequestLog(em)
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
	cfg, err := server.LoadConfig(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, server.Need{Database: true, Key: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	// The provisioning worker runs as under serve; it stops (after the
	// server, before the pool closes) when the test ends.
	t.Cleanup(a.Accounts.RunBackground(context.Background(), a.Log))
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return &Stack{
		T: t, URL: srv.URL, DBURL: vars["DATABASE_URL"], Em: em, EmLog: emLog, EmURL: ems.URL, AppID: appID, Key: key, App: a,
		Client: &http.Client{Transport: contracttest.Transport(t, nil)},
	}
}

// Response is a decoded HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// Do sends a request to the server; header holds name, value pairs.
func (s *Stack) Do(method, path, contentType string, body io.Reader, header ...string) Response {
	s.T.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		s.T.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return s.send(s.Client, req)
}

// send makes req with c and reads the whole answer, failing the test when
// there is none.
func (s *Stack) send(c *http.Client, req *http.Request) Response {
	s.T.Helper()
	res, err := c.Do(req)
	if err != nil {
		s.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// PostJSON sends v (a string is sent as it is) as a JSON body.
func (s *Stack) PostJSON(path string, v any, header ...string) Response {
	s.T.Helper()
	var b []byte
	if str, ok := v.(string); ok {
		b = []byte(str)
	} else {
		b, _ = json.Marshal(v)
	}
	return s.Do(http.MethodPost, path, "application/json", bytes.NewReader(b), header...)
}

// PostForm sends form as a form-encoded body.
func (s *Stack) PostForm(path string, form url.Values) Response {
	s.T.Helper()
	return s.Do(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// Signup signs a new user up and fails the test unless it answers 201.
func (s *Stack) Signup(username, password string) map[string]any {
	s.T.Helper()
	r := s.PostJSON("/v1/signup", map[string]string{"username": username, "password": password})
	if r.Status != http.StatusCreated {
		s.T.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	return r.JSON(s.T)
}

// EmulatorDo calls the Vonage emulator with a bearer token.
func (s *Stack) EmulatorDo(method, path, token string) Response {
	s.T.Helper()
	req, _ := http.NewRequest(method, s.EmURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return s.send(http.DefaultClient, req)
}

// Count returns the number of rows in table.
func (s *Stack) Count(table string) int {
	s.T.Helper()
	return dbtest.Count(s.T, s.App.Pool, table)
}

// User returns the stored row of the user named name.
func (s *Stack) User(name string) db.User {
	s.T.Helper()
	u, err := db.New(s.App.Pool).GetUserByUsername(context.Background(), name)
	if err != nil {
		s.T.Fatal(err)
	}
	return u
}

// NewClient creates a service client with scopes (a comma-separated list)
// as `sdkauth clients create` does, audited with the command line as the
// actor, and returns its id and secret.
func (s *Stack) NewClient(scopes string) (id, secret string) {
	s.T.Helper()
	ctx := auth.WithOrigin(context.Background(), auth.Origin{Actor: "cli"})
	clients := auth.NewClients(s.App.Pool, nil, auth.NewAudit(s.App.Pool, slog.New(slog.DiscardHandler)))
	cl, secret, err := clients.Create(ctx, "a backend service", strings.Split(scopes, ","))
	if err != nil {
		s.T.Fatalf("create a client with %s: %v", scopes, err)
	}
	return cl.ID, secret
}

// Basic is the Authorization header of HTTP Basic authentication with a
// client's id and secret (RFC 6749 §2.3.1: each form-encoded first).
func Basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// AdminAuth returns the Authorization header of a new client with scopes.
func (s *Stack) AdminAuth(scopes string) string {
	s.T.Helper()
	return Basic(s.NewClient(scopes))
}

// Replica starts a second sdkauth on s's database and emulator, wired as
// `serve` wires it: what a second replica behind a load balancer is. It
// reads s.App.Config as it is when called.
func (s *Stack) Replica() *Stack {
	s.T.Helper()
	a, err := server.New(context.Background(), s.App.Config, slog.New(slog.DiscardHandler))
	if err != nil {
		s.T.Fatal(err)
	}
	s.T.Cleanup(a.Close)
	srv := httptest.NewServer(a.Handler)
	s.T.Cleanup(srv.Close)
	r := *s
	r.URL, r.App = srv.URL, a
	r.Client = &http.Client{Transport: contracttest.Transport(s.T, nil)}
	return &r
}
