package emulator_test

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

const (
	testAPIKey    = "test-key"
	testAPISecret = "test-secret"
)

var (
	userIDPattern = regexp.MustCompile(`^USR-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	uuidPattern   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// publicPEM renders the PKIX PEM of a key's public half.
func publicPEM(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// env is an emulator behind a real HTTP server with one application.
type env struct {
	t     *testing.T
	em    *emulator.Emulator
	srv   *httptest.Server
	appID string
	key   *rsa.PrivateKey
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWithNow(t, nil)
}

// claims returns valid admin-token claims for an application.
func claims(appID string) jwt.MapClaims {
	now := time.Now().Unix()
	return jwt.MapClaims{
		"application_id": appID,
		"iat":            now,
		"exp":            now + 900,
		"jti":            uuid.NewString(),
	}
}

// sign signs claims with RS256.
func sign(t testing.TB, key *rsa.PrivateKey, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// admin returns a valid admin token for the env's application.
func (e *env) admin() string { return sign(e.t, e.key, claims(e.appID)) }

// userToken returns a valid user token for sub with the given acl.
func (e *env) userToken(sub string, acl any) string {
	c := claims(e.appID)
	c["sub"] = sub
	if acl != nil {
		c["acl"] = acl
	}
	return sign(e.t, e.key, c)
}

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request to the env's server (path relative, or an absolute URL)
// with an optional bearer token and JSON body.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	url := path
	if len(path) > 0 && path[0] == '/' {
		url = e.srv.URL + path
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(e.t, req)
}

// basic sends an Applications API request with the test credentials.
func (e *env) basic(method, path string, body any) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.SetBasicAuth(testAPIKey, testAPISecret)
	req.Header.Set("Content-Type", "application/json")
	return send(e.t, req)
}

func send(t testing.TB, req *http.Request) response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("invalid JSON body %q: %v", raw, err)
		}
	}
	return r
}

// want fails the test unless the response has the given status.
func (r response) want(t testing.TB, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

// str returns a top-level string member of the body.
func (r response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// href returns _links.<rel>.href of the body, or "".
func (r response) href(rel string) string {
	links, _ := r.body["_links"].(map[string]any)
	l, _ := links[rel].(map[string]any)
	s, _ := l["href"].(string)
	return s
}

// wantProblem checks Vonage's problem shape, status and code, and returns the body.
func (r response) wantProblem(t testing.TB, status int, code string) response {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("problem Content-Type = %q, want application/json", ct)
	}
	for _, k := range []string{"type", "title", "detail", "instance"} {
		if r.str(k) == "" {
			t.Errorf("problem lacks %q: %s", k, r.raw)
		}
	}
	if _, err := uuid.Parse(r.str("instance")); err != nil {
		t.Errorf("instance %q is not a UUID", r.str("instance"))
	}
	if got := r.str("code"); got != code {
		t.Errorf("code = %q, want %q (body %s)", got, code, r.raw)
	}
	return r
}

// invalidParams returns the names listed in invalid_parameters.
func (r response) invalidParams() []string {
	var names []string
	list, _ := r.body["invalid_parameters"].([]any)
	for _, p := range list {
		m, _ := p.(map[string]any)
		name, _ := m["name"].(string)
		names = append(names, name)
	}
	return names
}

// createUser creates a user by name with an admin token and returns its id.
func (e *env) createUser(name string) string {
	e.t.Helper()
	return e.do("POST", "/v1/users", e.admin(), map[string]any{"name": name}).want(e.t, 201).str("id")
}

// newEnvWithNow is newEnv with the emulator's clock replaced.
func newEnvWithNow(t *testing.T, now func() time.Time) *env {
	t.Helper()
	em := emulator.New(emulator.Config{APIKey: testAPIKey, APISecret: testAPISecret, Now: now})
	srv := httptest.NewServer(em)
	t.Cleanup(srv.Close)
	key := testkit.Key(t, 0)
	appID, err := em.AddApplication("test app", publicPEM(t, key))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, em: em, srv: srv, appID: appID, key: key}
}
