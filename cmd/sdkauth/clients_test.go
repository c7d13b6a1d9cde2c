package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// newClient creates a service client through the CLI and returns its id
// and secret.
func (s *stack) newClient(scopes string) (id, secret string) {
	s.t.Helper()
	out, err := s.run("clients", "create", "--name", "a backend service", "--scopes", scopes, "--output", "json")
	if err != nil {
		s.t.Fatalf("clients create: %v: %s", err, out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		s.t.Fatalf("clients create --output json printed %q: %v", out, err)
	}
	if strings.Join(keysOf(got), ",") != "client_id,client_secret,name,scopes" {
		s.t.Fatalf("clients create JSON has %v", keysOf(got))
	}
	return got["client_id"].(string), got["client_secret"].(string)
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func TestClientCredentialsGrantMintsAdminJWT(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	id, secret := s.newClient("tokens:admin")
	if url.QueryEscape(secret) != secret || len(secret) != 43 {
		t.Fatalf("secret %q is not 256-bit URL-safe", secret)
	}
	for name, r := range map[string]response{
		"basic": s.do(http.MethodPost, "/v1/token", "application/x-www-form-urlencoded", stringsReader("grant_type=client_credentials"), "Authorization", basic(id, secret)),
		"body":  s.postForm("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}),
	} {
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
		body := r.JSON(t)
		if _, ok := body["refresh_token"]; ok {
			t.Fatalf("%s: client_credentials returned a refresh token", name)
		}
		tok := body["access_token"].(string)
		if h := decodeSegment(t, tok, 0); h["alg"] != "RS256" || h["typ"] != "JWT" {
			t.Fatalf("header %v", h)
		}
		if got := strings.Join(keysOf(decodeSegment(t, tok, 1)), ","); got != "application_id,exp,iat,jti" {
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

	wrong := s.do(http.MethodPost, "/v1/token", "application/x-www-form-urlencoded", stringsReader("grant_type=client_credentials"), "Authorization", basic(id, "wrong-secret"))
	if wrong.Status != http.StatusUnauthorized || wrong.JSON(t)["error"] != "invalid_client" || wrong.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong secret: %d %v %s", wrong.Status, wrong.Header, wrong.Body)
	}
	unknown := s.do(http.MethodPost, "/v1/token", "application/x-www-form-urlencoded", stringsReader("grant_type=client_credentials"), "Authorization", basic("sdkc_nope", "wrong-secret"))
	if withoutRequestID(t, unknown) != withoutRequestID(t, wrong) {
		t.Fatal("an unknown client and a wrong secret answer differently")
	}
	userOnly, userSecret := s.newClient("tokens:user")
	if r := s.postForm("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {userOnly}, "client_secret": {userSecret}}); r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "unauthorized_client" {
		t.Fatalf("client without tokens:admin: %d %s", r.Status, r.Body)
	}
}

func TestAdminAPIAcceptsOnlyBasicClientsWithAdminScope(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	adminID, adminSecret := s.newClient("admin")
	tokID, tokSecret := s.newClient("tokens:admin")
	adminJWT := s.postForm("/v1/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {tokID}, "client_secret": {tokSecret}}).JSON(t)["access_token"].(string)

	for name, auth := range map[string]string{
		"no credentials":   "",
		"admin JWT bearer": "Bearer " + adminJWT,
		"wrong secret":     basic(adminID, "nope"),
		"malformed basic":  "Basic !!!",
	} {
		for _, path := range []string{"/v1/admin/clients", "/v1/admin/users"} {
			r := s.do(http.MethodGet, path, "", nil, "Authorization", auth)
			if r.Status != http.StatusUnauthorized || r.JSON(t)["code"] != "invalid_client" {
				t.Errorf("%s on %s: %d %s", name, path, r.Status, r.Body)
			}
		}
	}
	for _, path := range []string{"/v1/admin/clients", "/v1/admin/users"} {
		if r := s.do(http.MethodGet, path, "", nil, "Authorization", basic(tokID, tokSecret)); r.Status != http.StatusForbidden {
			t.Errorf("client without admin on %s: %d %s", path, r.Status, r.Body)
		}
	}
	list := s.do(http.MethodGet, "/v1/admin/clients", "", nil, "Authorization", basic(adminID, adminSecret))
	if list.Status != http.StatusOK || len(list.JSON(t)["clients"].([]any)) != 2 || strings.Contains(string(list.Body), adminSecret) {
		t.Fatalf("list: %d %s", list.Status, list.Body)
	}

	// Create, rotate, delete over HTTP.
	created := s.postJSON("/v1/admin/clients", map[string]any{"name": "another service", "scopes": []string{"tokens:user"}}, "Authorization", basic(adminID, adminSecret))
	if created.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", created.Status, created.Body)
	}
	newID, firstSecret := created.JSON(t)["client_id"].(string), created.JSON(t)["client_secret"].(string)
	rotated := s.do(http.MethodPost, "/v1/admin/clients/"+newID+"/secret", "", nil, "Authorization", basic(adminID, adminSecret))
	if rotated.Status != http.StatusOK || rotated.JSON(t)["client_secret"] == firstSecret {
		t.Fatalf("rotate: %d %s", rotated.Status, rotated.Body)
	}
	if r := s.do(http.MethodGet, "/v1/admin/clients", "", nil, "Authorization", basic(newID, firstSecret)); r.Status != http.StatusUnauthorized {
		t.Fatalf("the rotated-away secret still authenticates: %d", r.Status)
	}
	if r := s.postJSON("/v1/admin/clients", map[string]any{"name": "bad", "scopes": []string{"root"}}, "Authorization", basic(adminID, adminSecret)); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "scopes[0]") {
		t.Fatalf("bad scope: %d %s", r.Status, r.Body)
	}
	if r := s.do(http.MethodDelete, "/v1/admin/clients/"+newID, "", nil, "Authorization", basic(adminID, adminSecret)); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := s.do(http.MethodDelete, "/v1/admin/clients/"+newID, "", nil, "Authorization", basic(adminID, adminSecret)); r.Status != http.StatusNotFound {
		t.Fatalf("delete again: %d %s", r.Status, r.Body)
	}
}
