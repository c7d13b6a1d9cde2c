package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth/internal/servertest"
)

// TestEveryRouteRefusesNULAndInvalidUTF8 sends NUL and invalid UTF-8 in each
// kind of input to every route: each answer is 400 naming the field, before
// any SQL runs (so never a 500), and an oversized body is 413.
func TestEveryRouteRefusesNULAndInvalidUTF8(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	id, secret := s.NewClient("admin,tokens:admin,tokens:user")
	admin := []string{"Authorization", servertest.Basic(id, secret)}
	engine, ok := s.App.Handler.(*gin.Engine)
	if !ok {
		t.Fatalf("the handler is a %T, not the Gin engine", s.App.Handler)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)

	wantField := func(what string, r response, status int, field string) {
		t.Helper()
		var p struct {
			Code              string `json:"code"`
			InvalidParameters []struct {
				Name string `json:"name"`
			} `json:"invalid_parameters"`
		}
		_ = json.Unmarshal(r.Body, &p)
		if r.Status != status || len(p.InvalidParameters) == 0 || p.InvalidParameters[0].Name != field {
			t.Errorf("%s: %d %s, want %d naming %q", what, r.Status, r.Body, status, field)
		}
	}
	routes := engine.Routes()
	if len(routes) < 25 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, rt := range routes {
		path := param.ReplaceAllString(rt.Path, "probe")
		name := rt.Method + " " + rt.Path

		wantField(name+" query NUL", s.Do(rt.Method, path+"?filter=a%00b", "", nil, admin...), 400, "filter")
		wantField(name+" query invalid UTF-8", s.Do(rt.Method, path+"?filter=%ff", "", nil, admin...), 400, "filter")
		if m := param.FindStringSubmatch(rt.Path); m != nil {
			bad := param.ReplaceAllString(rt.Path, "x%00y")
			wantField(name+" path NUL", s.Do(rt.Method, bad, "", nil, admin...), 400, m[1])
			bad = param.ReplaceAllString(rt.Path, "x%C3%28y")
			wantField(name+" path invalid UTF-8", s.Do(rt.Method, bad, "", nil, admin...), 400, m[1])
		}
		if rt.Method == http.MethodGet || rt.Method == http.MethodHead || rt.Path == "/v1/admin/users/import" {
			continue // the import reads its lines (and their limits) itself
		}
		wantField(name+" JSON NUL", s.Do(rt.Method, path, "application/json",
			strings.NewReader(`{"username":"a\u0000b"}`), admin...), 400, "username")
		wantField(name+" nested JSON NUL", s.Do(rt.Method, path, "application/json",
			strings.NewReader(`{"acl":{"paths":{"/*/users/**":{"methods":["GET","\u0000"]}}}}`), admin...), 400, "acl.paths./*/users/**.methods[1]")
		wantField(name+" JSON invalid UTF-8", s.Do(rt.Method, path, "application/json",
			bytes.NewReader([]byte("{\"display_name\":\"a\xffb\"}")), admin...), 400, "display_name")
		wantField(name+" JSON key NUL", s.Do(rt.Method, path, "application/json",
			strings.NewReader(`{"a\u0000":1}`), admin...), 400, "a\x00")
		wantField(name+" form NUL", s.Do(rt.Method, path, "application/x-www-form-urlencoded",
			strings.NewReader("grant_type=password&username=a%00b"), admin...), 400, "username")
		big := bytes.Repeat([]byte("a"), 3<<20)
		r := s.Do(rt.Method, path, "application/json", bytes.NewReader(big), admin...)
		if r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(string(r.Body), `"code":"request_too_large"`) {
			t.Errorf("%s with 3 MiB: %d %s", name, r.Status, r.Body)
		}
	}
	// Headers that become data, and the cases first reported as 500s.
	wantField("User-Agent", s.Do("GET", "/v1/admin/users", "", nil, append(admin, "User-Agent", "agent\xff")...), 400, "User-Agent")
	wantField("Basic credentials", s.Do("GET", "/v1/admin/users", "", nil, "Authorization", servertest.Basic("client\x00id", "secret")), 400, "Authorization")
	wantField("username filter", s.Do("GET", "/v1/admin/users?username=%00", "", nil, admin...), 400, "username")
	wantField("client id", s.Do("DELETE", "/v1/admin/clients/%00", "", nil, admin...), 400, "id")
	// A chunked body (no Content-Length) over the limit is 413 as well.
	req, _ := http.NewRequest("POST", s.URL+"/v1/signup", struct{ *bytes.Reader }{bytes.NewReader(bytes.Repeat([]byte("a"), 3<<20))})
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 3 MiB: %d", res.StatusCode)
	}
}
