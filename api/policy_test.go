package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/internal/server"
	"github.com/sdkauth/sdkauth/internal/servertest"
)

const readOnlyPolicy = `{"acl":{"paths":{"/*/users/**":{"methods":["GET"]},"/*/conversations/**":{"methods":["GET"]}}},"max_ttl":3600}`

func (s *stack) put(path, body string, header ...string) response {
	s.T.Helper()
	return s.Do(http.MethodPut, path, "application/json", bytes.NewReader([]byte(body)), header...)
}

// passwordToken asks for a token for the new user with extra members.
func (s *stack) passwordToken(extra map[string]any) response {
	s.T.Helper()
	req := map[string]any{"grant_type": "password", "username": "new-user", "password": "correct horse battery"}
	for k, v := range extra {
		req[k] = v
	}
	return s.PostJSON("/v1/token", req)
}

func firstInvalid(t *testing.T, r response) (code, name string) {
	t.Helper()
	p := r.JSON(t)
	params, _ := p["invalid_parameters"].([]any)
	if len(params) > 0 {
		name, _ = params[0].(map[string]any)["name"].(string)
	}
	code, _ = p["code"].(string)
	return code, name
}

// TestReadOnlyPolicy is acceptance 4.
func TestReadOnlyPolicy(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	if r := s.put("/v1/admin/policies/read-only", readOnlyPolicy, "Authorization", admin); r.Status != http.StatusCreated {
		t.Fatalf("creating the policy: %d %s", r.Status, r.Body)
	}
	if r := s.put("/v1/admin/policies/read-only", readOnlyPolicy, "Authorization", admin); r.Status != http.StatusOK {
		t.Fatalf("putting it again: %d %s", r.Status, r.Body)
	}
	got := s.Do(http.MethodGet, "/v1/admin/policies/read-only", "", nil, "Authorization", admin)
	if got.Status != http.StatusOK || got.JSON(t)["max_ttl"] != float64(3600) || got.JSON(t)["built_in"] != false {
		t.Fatalf("GET: %d %s", got.Status, got.Body)
	}

	user := s.Signup("new-user", "correct horse battery")["user"].(map[string]any)
	// What PATCH /v1/admin/users/{id} {"policy": …} calls.
	policies := auth.NewPolicies(s.App.Pool, s.App.Config.TokenTTL, s.App.Config.TokenMaxTTL, nil)
	if err := policies.SetUserPolicy(context.Background(), uuid.MustParse(user["id"].(string)), "read-only"); err != nil {
		t.Fatal(err)
	}

	r := s.passwordToken(nil)
	if r.Status != http.StatusOK || r.JSON(t)["expires_in"] != float64(900) {
		t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	tok := r.JSON(t)["access_token"].(string)
	acl, _ := json.Marshal(servertest.DecodeSegment(t, tok, 1)["acl"])
	if string(acl) != `{"paths":{"/*/conversations/**":{"methods":["GET"]},"/*/users/**":{"methods":["GET"]}}}` {
		t.Fatalf("the token's acl is %s", acl)
	}
	if r := s.passwordToken(map[string]any{"ttl": 3600}); r.Status != http.StatusOK || r.JSON(t)["expires_in"] != float64(3600) {
		t.Fatalf("ttl=3600: %d %s", r.Status, r.Body)
	}
	if r := s.passwordToken(map[string]any{"ttl": 7200}); r.Status != http.StatusBadRequest {
		t.Fatalf("ttl=7200: %d %s", r.Status, r.Body)
	} else if code, name := firstInvalid(t, r); code != "validation_failed" || name != "ttl" {
		t.Fatalf("ttl=7200: %s naming %s", code, name)
	}
	narrow := s.passwordToken(map[string]any{"acl": map[string]any{"paths": map[string]any{"/*/users/**": map[string]any{"methods": []string{"GET"}}}}})
	if narrow.Status != http.StatusOK {
		t.Fatalf("narrowing: %d %s", narrow.Status, narrow.Body)
	}
	if acl, _ := json.Marshal(servertest.DecodeSegment(t, narrow.JSON(t)["access_token"].(string), 1)["acl"]); string(acl) != `{"paths":{"/*/users/**":{"methods":["GET"]}}}` {
		t.Fatalf("the narrowed acl is %s", acl)
	}
	wide := s.passwordToken(map[string]any{"acl": map[string]any{"paths": map[string]any{"/*/media/**": map[string]any{}}}})
	if code, _ := firstInvalid(t, wide); wide.Status != http.StatusBadRequest || code != "acl_not_allowed" {
		t.Fatalf("asking for media: %d %s", wide.Status, wide.Body)
	}

	// The emulator enforces the methods, as Vonage does.
	if e := s.EmulatorDo(http.MethodGet, "/v1/users", tok); e.Status != http.StatusOK {
		t.Fatalf("GET at the emulator: %d %s", e.Status, e.Body)
	}
	if e := s.EmulatorDo(http.MethodPost, "/v1/users", tok); e.Status != http.StatusForbidden {
		t.Fatalf("POST at the emulator: %d %s", e.Status, e.Body)
	}

	// A change applies from the next token.
	if r := s.put("/v1/admin/policies/read-only", strings.Replace(readOnlyPolicy, "3600", "600", 1), "Authorization", admin); r.Status != http.StatusOK {
		t.Fatalf("shortening: %d %s", r.Status, r.Body)
	}
	if r := s.passwordToken(map[string]any{"ttl": 3600}); r.Status != http.StatusBadRequest {
		t.Fatalf("ttl=3600 after the policy was shortened: %d", r.Status)
	}
}

func TestPolicyAdminAPI(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	cases := []struct {
		name, path, body string
		status           int
		code, field      string
	}{
		{"methods spelled verbs", "/v1/admin/policies/agent", `{"acl":{"paths":{"/*/users/**":{"verbs":["GET"]}}},"max_ttl":60}`, 400, "validation_failed", "acl.paths./*/users/**.verbs"},
		{"max_ttl past 24 h", "/v1/admin/policies/agent", `{"acl":{"paths":{"/*/users/**":{}}},"max_ttl":86401}`, 400, "validation_failed", "max_ttl"},
		{"max_ttl a string", "/v1/admin/policies/agent", `{"acl":{"paths":{"/*/users/**":{}}},"max_ttl":"1h"}`, 400, "validation_failed", "max_ttl"},
		{"the built-in policy", "/v1/admin/policies/client-sdk", `{"acl":{"paths":{"/*/users/**":{}}},"max_ttl":60}`, 400, "validation_failed", "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.put(tc.path, tc.body, "Authorization", admin)
			if code, field := firstInvalid(t, r); r.Status != tc.status || code != tc.code || field != tc.field {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	list := s.Do(http.MethodGet, "/v1/admin/policies", "", nil, "Authorization", admin)
	if ps := list.JSON(t)["policies"].([]any); list.Status != http.StatusOK || len(ps) != 1 || ps[0].(map[string]any)["built_in"] != true {
		t.Fatalf("list: %d %s", list.Status, list.Body)
	}
	if r := s.Do(http.MethodGet, "/v1/admin/policies/nothing-here", "", nil, "Authorization", admin); r.Status != http.StatusNotFound {
		t.Fatalf("GET unknown: %d", r.Status)
	}
	if r := s.Do(http.MethodDelete, "/v1/admin/policies/client-sdk", "", nil, "Authorization", admin); r.Status != http.StatusBadRequest {
		t.Fatalf("DELETE client-sdk: %d", r.Status)
	}
	s.put("/v1/admin/policies/agent", `{"acl":{"paths":{"/*/users/**":{}}},"max_ttl":60}`, "Authorization", admin)
	user := s.Signup("new-user", "correct horse battery")["user"].(map[string]any)
	policies := auth.NewPolicies(s.App.Pool, s.App.Config.TokenTTL, s.App.Config.TokenMaxTTL, nil)
	if err := policies.SetUserPolicy(context.Background(), uuid.MustParse(user["id"].(string)), "agent"); err != nil {
		t.Fatal(err)
	}
	if r := s.Do(http.MethodDelete, "/v1/admin/policies/agent", "", nil, "Authorization", admin); r.Status != http.StatusConflict || r.JSON(t)["code"] != "policy_in_use" {
		t.Fatalf("DELETE in use: %d %s", r.Status, r.Body)
	}
	if r := s.Do(http.MethodGet, "/v1/admin/policies/agent", "", nil, "Authorization", s.AdminAuth("tokens:user")); r.Status != http.StatusForbidden {
		t.Fatalf("a client without the admin scope: %d", r.Status)
	}
	if r := s.Do(http.MethodGet, "/v1/admin/policies/agent", "", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d", r.Status)
	}
}

// TestDefaultPolicyAppliesToNewUsers: SDKAUTH_DEFAULT_POLICY must name a
// policy, and new users get it.
func TestDefaultPolicyAppliesToNewUsers(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	cfg := s.App.Config
	cfg.DefaultPolicy = "read-only"
	if _, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "SDKAUTH_DEFAULT_POLICY") {
		t.Fatalf("start-up with a default policy that does not exist: %v", err)
	}
	if r := s.put("/v1/admin/policies/read-only", readOnlyPolicy, "Authorization", s.AdminAuth("admin")); r.Status != http.StatusCreated {
		t.Fatalf("creating the policy: %d %s", r.Status, r.Body)
	}
	s.App.Config = cfg
	r := &stack{s.Replica()}
	tok := r.Signup("new-user", "correct horse battery")["access_token"].(string)
	paths := servertest.DecodeSegment(t, tok, 1)["acl"].(map[string]any)["paths"].(map[string]any)
	if len(paths) != 2 || paths["/*/users/**"] == nil {
		t.Fatalf("a new user's token carries %v", paths)
	}
}
