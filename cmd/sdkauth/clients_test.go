package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/internal/servertest"
)

// newClient creates a service client through the CLI and returns its id
// and secret.
func (s *stack) newClient(scopes string) (id, secret string) {
	s.T.Helper()
	out, err := s.run("clients", "create", "--name", "a backend service", "--scopes", scopes, "--output", "json")
	if err != nil {
		s.T.Fatalf("clients create: %v: %s", err, out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		s.T.Fatalf("clients create --output json printed %q: %v", out, err)
	}
	if strings.Join(slices.Sorted(maps.Keys(got)), ",") != "client_id,client_secret,name,scopes" {
		s.T.Fatalf("clients create JSON has %v", slices.Sorted(maps.Keys(got)))
	}
	return got["client_id"].(string), got["client_secret"].(string)
}

func TestClientCredentialsGrantMintsAdminJWT(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	id, secret := s.newClient("tokens:admin")
	if url.QueryEscape(secret) != secret || len(secret) != 43 {
		t.Fatalf("secret %q is not 256-bit URL-safe", secret)
	}
	for name, r := range map[string]response{
		"basic": s.Do(http.MethodPost, "/v1/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"), "Authorization", servertest.Basic(id, secret)),
		"body":  s.PostForm("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}),
	} {
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
		body := r.JSON(t)
		if _, ok := body["refresh_token"]; ok {
			t.Fatalf("%s: client_credentials returned a refresh token", name)
		}
		tok := body["access_token"].(string)
		if h := servertest.DecodeSegment(t, tok, 0); h["alg"] != "RS256" || h["typ"] != "JWT" {
			t.Fatalf("header %v", h)
		}
		if got := strings.Join(servertest.KeysOf(servertest.DecodeSegment(t, tok, 1)), ","); got != "application_id,exp,iat,jti" {
			t.Fatalf("admin claims are %s", got)
		}
		req, _ := http.NewRequest(http.MethodPost, s.EmURL+"/v1/users", strings.NewReader(`{"name":"made-by-a-backend-`+name+`"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("%s: emulator POST /v1/users with the admin JWT: %d", name, res.StatusCode)
		}
	}

	wrong := s.Do(http.MethodPost, "/v1/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"), "Authorization", servertest.Basic(id, "wrong-secret"))
	if wrong.Status != http.StatusUnauthorized || wrong.JSON(t)["error"] != "invalid_client" || wrong.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong secret: %d %v %s", wrong.Status, wrong.Header, wrong.Body)
	}
	unknown := s.Do(http.MethodPost, "/v1/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"), "Authorization", servertest.Basic("sdkc_nope", "wrong-secret"))
	if servertest.WithoutRequestID(t, unknown) != servertest.WithoutRequestID(t, wrong) {
		t.Fatal("an unknown client and a wrong secret answer differently")
	}
	userOnly, userSecret := s.newClient("tokens:user")
	if r := s.PostForm("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {userOnly}, "client_secret": {userSecret}}); r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "unauthorized_client" {
		t.Fatalf("client without tokens:admin: %d %s", r.Status, r.Body)
	}
}

func TestAdminAPIAcceptsOnlyBasicClientsWithAdminScope(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	adminID, adminSecret := s.newClient("admin")
	tokID, tokSecret := s.newClient("tokens:admin")
	adminJWT := s.PostForm("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {tokID}, "client_secret": {tokSecret}}).JSON(t)["access_token"].(string)

	for name, auth := range map[string]string{
		"no credentials":   "",
		"admin JWT bearer": "Bearer " + adminJWT,
		"wrong secret":     servertest.Basic(adminID, "nope"),
		"malformed basic":  "Basic !!!",
	} {
		for _, path := range []string{"/v1/admin/clients", "/v1/admin/users"} {
			r := s.Do(http.MethodGet, path, "", nil, "Authorization", auth)
			if r.Status != http.StatusUnauthorized || r.JSON(t)["code"] != "invalid_client" {
				t.Errorf("%s on %s: %d %s", name, path, r.Status, r.Body)
			}
		}
	}
	for _, path := range []string{"/v1/admin/clients", "/v1/admin/users"} {
		if r := s.Do(http.MethodGet, path, "", nil, "Authorization", servertest.Basic(tokID, tokSecret)); r.Status != http.StatusForbidden {
			t.Errorf("client without admin on %s: %d %s", path, r.Status, r.Body)
		}
	}
	list := s.Do(http.MethodGet, "/v1/admin/clients", "", nil, "Authorization", servertest.Basic(adminID, adminSecret))
	if list.Status != http.StatusOK || len(list.JSON(t)["clients"].([]any)) != 2 || strings.Contains(string(list.Body), adminSecret) {
		t.Fatalf("list: %d %s", list.Status, list.Body)
	}

	// Create, rotate, delete over HTTP.
	created := s.PostJSON("/v1/admin/clients", map[string]any{"name": "another service", "scopes": []string{"tokens:user"}}, "Authorization", servertest.Basic(adminID, adminSecret))
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	newID, firstSecret := created.JSON(t)["client_id"].(string), created.JSON(t)["client_secret"].(string)
	rotated := s.Do(http.MethodPost, "/v1/admin/clients/"+newID+"/secret", "", nil, "Authorization", servertest.Basic(adminID, adminSecret))
	if rotated.Status != http.StatusOK || rotated.JSON(t)["client_secret"] == firstSecret {
		t.Fatalf("rotate: %d %s", rotated.Status, rotated.Body)
	}
	if r := s.Do(http.MethodGet, "/v1/admin/clients", "", nil, "Authorization", servertest.Basic(newID, firstSecret)); r.Status != http.StatusUnauthorized {
		t.Fatalf("the rotated-away secret still authenticates: %d", r.Status)
	}
	if r := s.PostJSON("/v1/admin/clients", map[string]any{"name": "bad", "scopes": []string{"root"}}, "Authorization", servertest.Basic(adminID, adminSecret)); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "scopes[0]") {
		t.Fatalf("bad scope: %d %s", r.Status, r.Body)
	}
	if r := s.Do(http.MethodDelete, "/v1/admin/clients/"+newID, "", nil, "Authorization", servertest.Basic(adminID, adminSecret)); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := s.Do(http.MethodDelete, "/v1/admin/clients/"+newID, "", nil, "Authorization", servertest.Basic(adminID, adminSecret)); r.Status != http.StatusNotFound {
		t.Fatalf("delete again: %d %s", r.Status, r.Body)
	}
}
