package emulator_test

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/sdkauth/sdkauth/internal/testkit"
)

func TestApplicationsRequireBasicAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, creds := range [][2]string{{"", ""}, {testAPIKey, "wrong"}, {"wrong", testAPISecret}} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v2/applications", nil)
		if creds[0] != "" {
			req.SetBasicAuth(creds[0], creds[1])
		}
		r := send(t, req).want(t, http.StatusUnauthorized)
		if r.header.Get("Content-Type") != "application/json" || r.str("type") == "" || r.str("title") == "" || r.str("instance") == "" {
			t.Errorf("401 body %s", r.raw)
		}
	}
	// A bearer token is not an Applications API credential.
	e.do("GET", "/v2/applications/"+e.appID, e.admin(), nil).want(t, http.StatusUnauthorized)
}

func TestCreateApplicationWithPublicKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	key := testkit.Key(t, 1)
	caps := map[string]any{
		"voice": map[string]any{"webhooks": map[string]any{"answer_url": map[string]any{"address": "https://example.com/answer", "http_method": "GET"}}},
		"rtc":   map[string]any{"webhooks": map[string]any{"event_url": map[string]any{"address": "https://example.com/event", "http_method": "POST"}}},
	}
	r := e.basic("POST", "/v2/applications", map[string]any{
		"name": "With key", "keys": map[string]any{"public_key": publicPEM(t, key)}, "capabilities": caps,
	}).want(t, http.StatusCreated)
	id := r.str("id")
	if !uuidPattern.MatchString(id) {
		t.Errorf("id %q is not a lowercase UUID", id)
	}
	keys := r.body["keys"].(map[string]any)
	if keys["public_key"] != publicPEM(t, key) || keys["private_key"] != nil {
		t.Errorf("keys = %v", keys)
	}
	if !reflect.DeepEqual(r.body["capabilities"], caps) {
		t.Errorf("capabilities = %v, want as given", r.body["capabilities"])
	}
	if r.href("self") != "/v2/applications/"+id || r.str("name") != "With key" {
		t.Errorf("body %s", r.raw)
	}
	got := e.basic("GET", "/v2/applications/"+id, nil).want(t, http.StatusOK)
	if !reflect.DeepEqual(got.body, r.body) {
		t.Errorf("GET %v, want %v", got.body, r.body)
	}
	// The key verifies tokens for the new application.
	e.do("GET", "/v1/users", sign(t, key, claims(id)), nil).want(t, http.StatusOK)
}

func TestCreateApplicationGeneratesKeyPair(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.basic("POST", "/v2/applications", map[string]any{"name": "Generated"}).want(t, http.StatusCreated)
	id := r.str("id")
	keys := r.body["keys"].(map[string]any)
	privPEM, _ := keys["private_key"].(string)
	block, _ := pem.Decode([]byte(privPEM))
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("private_key is not PKCS#8 PEM: %q", privPEM)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	priv := parsed.(*rsa.PrivateKey)
	if priv.N.BitLen() != 2048 {
		t.Errorf("generated key has %d bits", priv.N.BitLen())
	}
	if keys["public_key"] != publicPEM(t, priv) {
		t.Error("public_key does not match the generated private key")
	}
	// The private key is shown once, never again.
	again := e.basic("GET", "/v2/applications/"+id, nil).want(t, http.StatusOK)
	if again.body["keys"].(map[string]any)["private_key"] != nil {
		t.Error("private_key returned by GET")
	}
	e.do("GET", "/v1/users", sign(t, priv, claims(id)), nil).want(t, http.StatusOK)
}

func TestApplicationValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&testkit.Key(t, 1).PublicKey)}))
	cases := []struct {
		body  any
		param string
	}{
		{map[string]any{}, "name"},
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"name": 3}, "name"},
		{map[string]any{"name": "x", "keys": map[string]any{"public_key": "not a key"}}, "keys.public_key"},
		{map[string]any{"name": "x", "keys": map[string]any{"public_key": pkcs1}}, "keys.public_key"},
		{map[string]any{"name": "x", "keys": map[string]any{"public_key": 5}}, "keys.public_key"},
		{map[string]any{"name": "x", "capabilities": "voice"}, "capabilities"},
	}
	for _, tc := range cases {
		r := e.basic("POST", "/v2/applications", tc.body).want(t, http.StatusBadRequest)
		if names := r.invalidParams(); !slices.Equal(names, []string{tc.param}) {
			t.Errorf("body %v: invalid_parameters %v, want [%s] (%s)", tc.body, names, tc.param, r.raw)
		}
		if r.header.Get("Content-Type") != "application/json" || r.str("title") == "" {
			t.Errorf("400 body %s", r.raw)
		}
	}
	if _, err := e.em.AddApplication("x", "nope"); err == nil {
		t.Error("AddApplication accepted an invalid key")
	}
	if _, err := e.em.AddApplication("", publicPEM(t, testkit.Key(t, 1))); err == nil {
		t.Error("AddApplication accepted an empty name")
	}
}

func TestListApplications(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range 4 {
		if _, err := e.em.AddApplication(fmt.Sprintf("app %d", i), publicPEM(t, testkit.Key(t, 1))); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	url := "/v2/applications?page_size=2&page=1"
	for pages := 0; url != ""; pages++ {
		if pages > 3 {
			t.Fatal("too many pages")
		}
		r := e.basic("GET", url, nil).want(t, http.StatusOK)
		if r.body["total_items"] != 5.0 || r.body["total_pages"] != 3.0 || r.body["page_size"] != 2.0 {
			t.Errorf("page %d counts: %s", pages+1, r.raw)
		}
		for _, a := range r.body["_embedded"].(map[string]any)["applications"].([]any) {
			names = append(names, a.(map[string]any)["name"].(string))
		}
		url = r.href("next")
	}
	want := []string{"test app", "app 0", "app 1", "app 2", "app 3"}
	if !slices.Equal(names, want) {
		t.Errorf("listed %v, want %v", names, want)
	}
	e.basic("GET", "/v2/applications?page_size=0", nil).want(t, http.StatusBadRequest)
	e.basic("GET", "/v2/applications?page=x", nil).want(t, http.StatusBadRequest)
}

func TestKeyRotationByPut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	oldToken := e.admin()
	e.do("GET", "/v1/users", oldToken, nil).want(t, http.StatusOK)

	newKey := testkit.Key(t, 1)
	r := e.basic("PUT", "/v2/applications/"+e.appID, map[string]any{
		"name": "renamed", "keys": map[string]any{"public_key": publicPEM(t, newKey)},
	}).want(t, http.StatusOK)
	if r.str("name") != "renamed" || r.body["keys"].(map[string]any)["public_key"] != publicPEM(t, newKey) {
		t.Errorf("PUT answer %s", r.raw)
	}
	e.do("GET", "/v1/users", oldToken, nil).wantProblem(t, http.StatusUnauthorized, "system:error:invalid-token")
	e.do("GET", "/v1/users", sign(t, newKey, claims(e.appID)), nil).want(t, http.StatusOK)

	// A PUT without keys keeps the current key.
	e.basic("PUT", "/v2/applications/"+e.appID, map[string]any{"name": "again"}).want(t, http.StatusOK)
	e.do("GET", "/v1/users", sign(t, newKey, claims(e.appID)), nil).want(t, http.StatusOK)
	e.basic("PUT", "/v2/applications/00000000-0000-4000-8000-000000000000", map[string]any{"name": "x"}).want(t, http.StatusNotFound)
}

func TestDeleteApplication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser("someone")
	token := e.admin()
	e.basic("DELETE", "/v2/applications/"+e.appID, nil).want(t, http.StatusNoContent)
	r := e.basic("GET", "/v2/applications/"+e.appID, nil).want(t, http.StatusNotFound)
	if r.str("detail") == "" || r.str("type") == "" {
		t.Errorf("404 body %s", r.raw)
	}
	e.basic("DELETE", "/v2/applications/"+e.appID, nil).want(t, http.StatusNotFound)
	e.do("GET", "/v1/users", token, nil).wantProblem(t, http.StatusUnauthorized, "system:error:invalid-token")
	if e.em.Users(e.appID) != nil {
		t.Error("users survive their application")
	}
}
