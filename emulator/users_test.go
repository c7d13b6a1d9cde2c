package emulator_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sdkauth/sdkauth/internal/testkit"
)

func TestCreateAndGetUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := map[string]any{
		"name":         "new-user",
		"display_name": "New User",
		"image_url":    "https://example.com/new-user.png",
		"properties":   map[string]any{"custom_data": map[string]any{"sdkauth_user_id": "42", "nested": map[string]any{"a": 1.0}}},
		"channels":     map[string]any{"sms": []any{map[string]any{"number": "447700900000"}}},
	}
	created := e.do("POST", "/v1/users", e.admin(), body).want(t, http.StatusCreated)
	if ct := created.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	id := created.str("id")
	if !userIDPattern.MatchString(id) {
		t.Errorf("id %q is not USR- + lowercase UUID v4", id)
	}
	if got, want := created.href("self"), e.srv.URL+"/v1/users/"+id; got != want {
		t.Errorf("self href = %q, want %q", got, want)
	}
	for _, k := range []string{"name", "display_name", "image_url", "properties", "channels"} {
		if !reflect.DeepEqual(created.body[k], body[k]) {
			t.Errorf("%s = %v, want %v as given", k, created.body[k], body[k])
		}
	}

	got := e.do("GET", "/v1/users/"+id, e.admin(), nil).want(t, http.StatusOK)
	if got.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET Content-Type = %q", got.header.Get("Content-Type"))
	}
	if !reflect.DeepEqual(got.body, created.body) {
		t.Errorf("GET body %v differs from create body %v", got.body, created.body)
	}

	users := e.em.Users(e.appID)
	if len(users) != 1 || users[0].ID != id || users[0].Name != "new-user" || users[0].DisplayName != "New User" ||
		users[0].ImageURL != "https://example.com/new-user.png" || users[0].CreatedAt.IsZero() {
		t.Fatalf("Users() = %+v", users)
	}
	cd, _ := users[0].Properties["custom_data"].(map[string]any)
	if cd["sdkauth_user_id"] != "42" {
		t.Errorf("snapshot custom_data = %v", cd)
	}
	cd["sdkauth_user_id"] = "mutated"
	if again := e.em.Users(e.appID); again[0].Properties["custom_data"].(map[string]any)["sdkauth_user_id"] != "42" {
		t.Error("Users() snapshot shares state with the store")
	}
}

func TestCreateUserWithoutNameGeneratesOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("POST", "/v1/users", e.admin(), map[string]any{"display_name": "Anon"}).want(t, http.StatusCreated)
	if r.str("name") == "" {
		t.Fatalf("no generated name: %s", r.raw)
	}
	props, _ := r.body["properties"].(map[string]any)
	if _, ok := props["custom_data"].(map[string]any); !ok {
		t.Errorf("properties.custom_data missing: %s", r.raw)
	}
	// An empty body is a valid request too.
	e.do("POST", "/v1/users", e.admin(), nil).want(t, http.StatusCreated)
}

func TestCreateUserValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		body  any
		param string
	}{
		{map[string]any{"name": ""}, "name"},
		{map[string]any{"name": 7}, "name"},
		{map[string]any{"name": "x", "display_name": true}, "display_name"},
		{map[string]any{"name": "x", "image_url": "not a url"}, "image_url"},
		{map[string]any{"name": "x", "properties": "nope"}, "properties"},
		{map[string]any{"name": "x", "properties": map[string]any{"custom_data": "nope"}}, "properties.custom_data"},
		{map[string]any{"name": "x", "channels": []any{}}, "channels"},
		{[]any{"not", "an", "object"}, "body"},
	}
	for _, tc := range cases {
		r := e.do("POST", "/v1/users", e.admin(), tc.body).wantProblem(t, http.StatusBadRequest, "http:error:validation-fail")
		if names := r.invalidParams(); len(names) != 1 || names[0] != tc.param {
			t.Errorf("body %v: invalid_parameters %v, want [%s]", tc.body, names, tc.param)
		}
	}
	if n := len(e.em.Users(e.appID)); n != 0 {
		t.Errorf("%d users created by invalid requests", n)
	}
}

func TestDuplicateName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser("new-user")
	r := e.do("POST", "/v1/users", e.admin(), map[string]any{"name": "new-user"}).
		wantProblem(t, http.StatusConflict, "user:error:duplicate-name")
	if r.str("title") != "Conflict" || !strings.Contains(r.str("detail"), "new-user") {
		t.Errorf("problem = %s", r.raw)
	}
	if !strings.HasPrefix(r.str("type"), "https://developer.nexmo.com/api-errors/") {
		t.Errorf("type = %q", r.str("type"))
	}
	// Names are case-sensitive and exact.
	e.createUser("New-User")
}

func TestUserNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, m := range []string{"GET", "PATCH", "DELETE"} {
		r := e.do(m, "/v1/users/USR-00000000-0000-4000-8000-000000000000", e.admin(), map[string]any{}).
			wantProblem(t, http.StatusNotFound, "user:error:not-found")
		if r.str("title") == "" || r.str("detail") == "" {
			t.Errorf("%s: problem %s", m, r.raw)
		}
	}
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.do("POST", "/v1/users", e.admin(), map[string]any{
		"name": "other-user", "display_name": "Other User", "image_url": "https://example.com/b.png",
		"properties": map[string]any{"custom_data": map[string]any{"k": "v"}, "ttl": 60.0},
	}).want(t, 201).str("id")
	e.createUser("third-user")

	r := e.do("PATCH", "/v1/users/"+id, e.admin(), map[string]any{"display_name": "Renamed User"}).want(t, http.StatusOK)
	if r.str("display_name") != "Renamed User" || r.str("name") != "other-user" || r.str("image_url") != "https://example.com/b.png" {
		t.Errorf("merge failed: %s", r.raw)
	}
	if r.header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type = %q", r.header.Get("Content-Type"))
	}

	r = e.do("PATCH", "/v1/users/"+id, e.admin(), map[string]any{
		"properties": map[string]any{"custom_data": map[string]any{"k2": "v2"}},
	}).want(t, http.StatusOK)
	props := r.body["properties"].(map[string]any)
	if !reflect.DeepEqual(props["custom_data"], map[string]any{"k2": "v2"}) || props["ttl"] != 60.0 {
		t.Errorf("properties = %v", props)
	}

	e.do("PATCH", "/v1/users/"+id, e.admin(), map[string]any{"name": "third-user"}).
		wantProblem(t, http.StatusConflict, "user:error:duplicate-name")
	e.do("PATCH", "/v1/users/"+id, e.admin(), map[string]any{"name": ""}).
		wantProblem(t, http.StatusBadRequest, "http:error:validation-fail")
	e.do("PATCH", "/v1/users/"+id, e.admin(), map[string]any{"name": "other-user"}).want(t, http.StatusOK)

	r = e.do("PATCH", "/v1/users/"+id, e.admin(), map[string]any{"name": "renamed-user", "image_url": nil}).want(t, http.StatusOK)
	if r.str("name") != "renamed-user" || r.body["image_url"] != nil {
		t.Errorf("rename/clear failed: %s", r.raw)
	}
	// The old name is free again, the new one is taken.
	e.createUser("other-user")
	e.do("POST", "/v1/users", e.admin(), map[string]any{"name": "renamed-user"}).
		wantProblem(t, http.StatusConflict, "user:error:duplicate-name")
	list := e.do("GET", "/v1/users?name=renamed-user", e.admin(), nil).want(t, 200)
	if users := list.body["_embedded"].(map[string]any)["users"].([]any); len(users) != 1 {
		t.Errorf("name filter after rename: %s", list.raw)
	}
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createUser("new-user")
	r := e.do("DELETE", "/v1/users/"+id, e.admin(), nil).want(t, http.StatusNoContent)
	if len(r.raw) != 0 {
		t.Errorf("204 with body %q", r.raw)
	}
	e.do("GET", "/v1/users/"+id, e.admin(), nil).wantProblem(t, http.StatusNotFound, "user:error:not-found")
	e.do("DELETE", "/v1/users/"+id, e.admin(), nil).wantProblem(t, http.StatusNotFound, "user:error:not-found")
	e.createUser("new-user") // the name can be used again
}

func TestApplicationsAreSeparateNamespaces(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	otherKey := testkit.Key(t, 1)
	otherApp, err := e.em.AddApplication("other", publicPEM(t, otherKey))
	if err != nil {
		t.Fatal(err)
	}
	id := e.createUser("new-user")
	other := sign(t, otherKey, claims(otherApp))
	e.do("GET", "/v1/users/"+id, other, nil).wantProblem(t, http.StatusNotFound, "user:error:not-found")
	e.do("POST", "/v1/users", other, map[string]any{"name": "new-user"}).want(t, http.StatusCreated)
	if len(e.em.Users(otherApp)) != 1 || len(e.em.Users(e.appID)) != 1 {
		t.Error("users leaked between applications")
	}
	if e.em.Users("no-such-app") != nil {
		t.Error("Users of an unknown application should be nil")
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do("GET", "/v1/nothing", e.admin(), nil).wantProblem(t, http.StatusNotFound, "http:error:not-found")
	r := e.do("PUT", "/v1/users", e.admin(), nil).wantProblem(t, http.StatusMethodNotAllowed, "http:error:method-not-allowed")
	if r.header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
}

func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token := e.admin()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				name := fmt.Sprintf("u-%d-%d", g, i)
				r := e.do("POST", "/v1/users", token, map[string]any{"name": name})
				if r.status != http.StatusCreated {
					t.Errorf("create %s: %d %s", name, r.status, r.raw)
					return
				}
				id := r.str("id")
				e.do("GET", "/v1/users?page_size=5", token, nil)
				e.do("PATCH", "/v1/users/"+id, token, map[string]any{"display_name": name})
				e.do("POST", "/v1/users", token, map[string]any{"name": "shared"})
				if i%2 == 0 {
					e.do("DELETE", "/v1/users/"+id, token, nil)
				}
				_ = e.em.Users(e.appID)
				_ = e.em.Stats()
			}
		}()
	}
	wg.Wait()
	if n := len(e.em.Users(e.appID)); n != 8*5+1 {
		t.Errorf("%d users left, want %d", n, 8*5+1)
	}
	if got := e.em.Stats()["POST /v1/users 201"]; got != 8*10+1 {
		t.Errorf("POST 201 count = %d, want %d", got, 8*10+1)
	}
}
