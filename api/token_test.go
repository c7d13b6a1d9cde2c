package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/internal/servertest"
)

func TestPasswordGrant(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	first := s.Signup("new-user", "correct horse battery")

	r := s.PostForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"correct horse battery"}})
	if r.Status != http.StatusOK {
		t.Fatalf("password grant (form): %d %s", r.Status, r.Body)
	}
	got := r.JSON(t)
	if got["access_token"] == first["access_token"] || got["refresh_token"] == first["refresh_token"] || got["refresh_token"] == "" {
		t.Fatal("the password grant did not return a new pair")
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
	}
	if j := s.PostJSON("/v1/token", map[string]string{"grant_type": "password", "username": "NEW-USER", "password": "correct horse battery"}); j.Status != http.StatusOK {
		t.Fatalf("password grant (JSON, other case): %d %s", j.Status, j.Body)
	}

	sessions := s.Count("sessions")
	wrong := s.PostForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"wrong password"}})
	unknown := s.PostForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"nobody-here"}, "password": {"wrong password"}})
	if wrong.Status != http.StatusBadRequest || unknown.Status != http.StatusBadRequest {
		t.Fatalf("statuses %d and %d", wrong.Status, unknown.Status)
	}
	if a, b := servertest.WithoutRequestID(t, wrong), servertest.WithoutRequestID(t, unknown); a != b {
		t.Fatalf("a wrong password and an unknown user answer differently:\n%s\n%s", a, b)
	}
	if p := wrong.JSON(t); p["error"] != "invalid_grant" || p["code"] != "invalid_credentials" {
		t.Fatalf("problem %v", p)
	}
	if s.Count("sessions") != sessions {
		t.Fatal("a failed login started a session")
	}
}

func TestTokenEndpointRefusesBadRequests(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.Signup("new-user", "correct horse battery")
	sessions := s.Count("sessions")
	cases := []struct {
		name        string
		contentType string
		body        string
		field, code string
		oauth       string
	}{
		{"malformed JSON", "application/json", `{"grant_type":`, "body", "validation_failed", "invalid_request"},
		{"no grant type", "application/json", `{}`, "grant_type", "validation_failed", "invalid_request"},
		{"unsupported grant", "application/x-www-form-urlencoded", "grant_type=implicit", "grant_type", "unsupported_grant_type", "unsupported_grant_type"},
		{"missing password", "application/x-www-form-urlencoded", "grant_type=password&username=new-user", "password", "validation_failed", "invalid_request"},
		{"missing refresh token", "application/json", `{"grant_type":"refresh_token"}`, "refresh_token", "validation_failed", "invalid_request"},
		{"ttl not a number", "application/x-www-form-urlencoded", "grant_type=password&username=new-user&password=correct+horse+battery&ttl=abc", "ttl", "validation_failed", "invalid_request"},
		{"ttl too long", "application/json", `{"grant_type":"password","username":"new-user","password":"correct horse battery","ttl":90000}`, "ttl", "validation_failed", "invalid_request"},
		{"acl with verbs", "application/json", `{"grant_type":"password","username":"new-user","password":"correct horse battery","acl":{"paths":{"/*/users/**":{"verbs":["GET"]}}}}`, "", "validation_failed", "invalid_request"},
		{"acl wider than the policy", "application/json", `{"grant_type":"password","username":"new-user","password":"correct horse battery","acl":{"paths":{"/*/calls/**":{}}}}`, "", "acl_not_allowed", "invalid_scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(http.MethodPost, "/v1/token", tc.contentType, strings.NewReader(tc.body))
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			p := r.JSON(t)
			if p["code"] != tc.code || p["error"] != tc.oauth {
				t.Fatalf("problem %v", p)
			}
			params, _ := p["invalid_parameters"].([]any)
			if len(params) == 0 {
				t.Fatalf("no invalid_parameters in %v", p)
			}
			if tc.field != "" && params[0].(map[string]any)["name"] != tc.field {
				t.Fatalf("names %v, want %s", params, tc.field)
			}
		})
	}
	if s.Count("sessions") != sessions {
		t.Fatal("a refused token request started a session")
	}
}

func TestRefreshGrantRotates(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_REFRESH_GRACE": "0s"})
	first := s.Signup("new-user", "correct horse battery")
	r0 := first["refresh_token"].(string)

	r := s.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r0}})
	if r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	got := r.JSON(t)
	r1 := got["refresh_token"].(string)
	if r1 == r0 || got["access_token"] == "" || got["expires_in"] != float64(900) {
		t.Fatalf("refresh response %v", got)
	}
	if e := s.EmulatorDo(http.MethodGet, "/v1/users", got["access_token"].(string)); e.Status != http.StatusOK {
		t.Fatalf("the refreshed token is refused by the emulator: %d %s", e.Status, e.Body)
	}
	s.age(first, 1) // past the (zero) grace window
	old := s.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r0}})
	if old.Status != http.StatusBadRequest || old.JSON(t)["error"] != "invalid_grant" {
		t.Fatalf("the spent refresh token still works: %d %s", old.Status, old.Body)
	}
	if bad := s.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-refresh-token"}}); bad.Status != http.StatusBadRequest || bad.JSON(t)["code"] != "invalid_grant" {
		t.Fatalf("unknown refresh token: %d %s", bad.Status, bad.Body)
	}
}

func TestMeRefusesBadBearers(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	body := s.Signup("new-user", "correct horse battery")
	tok := body["access_token"].(string)
	for name, h := range map[string]string{
		"none":     "",
		"garbage":  "Bearer not.a.jwt",
		"tampered": "Bearer " + tok[:len(tok)-4] + "AAAA",
		"basic":    "Basic dXNlcjpwYXNz",
	} {
		r := s.Do(http.MethodGet, "/v1/me", "", nil, "Authorization", h)
		if r.Status != http.StatusUnauthorized || r.JSON(t)["code"] != "invalid_token" || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
}

func TestProbes(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	if r := s.Do(http.MethodGet, "/healthz", "", nil); r.Status != http.StatusOK {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := s.Do(http.MethodGet, "/readyz", "", nil); r.Status != http.StatusOK || r.JSON(t)["status"] != "ok" {
		t.Fatalf("readyz %d %s", r.Status, r.Body)
	}
	if r := s.Do(http.MethodGet, "/openapi.yaml", "", nil); r.Status != http.StatusOK {
		t.Fatalf("openapi %d", r.Status)
	}
	// The page itself is checked in Chromium (api.TestDocsInChromium); here,
	// that the server serves it and its scripts from itself.
	if r := s.Do(http.MethodGet, "/docs", "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `src="/docs/redoc.standalone.js"`) ||
		!strings.Contains(r.Header.Get("Content-Security-Policy"), "script-src 'self';") {
		t.Fatalf("docs %d %q %s", r.Status, r.Header.Get("Content-Security-Policy"), r.Body)
	}
	for _, script := range []string{"/docs/redoc.standalone.js", "/docs/docs.js"} {
		if r := s.Do(http.MethodGet, script, "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "Redoc") {
			t.Fatalf("%s %d", script, r.Status)
		}
	}
}

func TestMetricsCountWhatHappens(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.Signup("new-user", "correct horse battery")
	s.PostForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"wrong password"}})
	r := s.Do(http.MethodGet, "/metrics", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("metrics: %d", r.Status)
	}
	body := string(r.Body)
	for _, want := range []string{
		`sdkauth_signups_total{outcome="provisioned"} 1`,
		`sdkauth_token_requests_total{grant="password",outcome="invalid_credentials"} 1`,
		`sdkauth_http_requests_total{method="POST",route="/v1/signup",status="201"} 1`,
		`sdkauth_jwt_sign_duration_seconds_count`,
		`sdkauth_signer_info{signer=`,
		`sdkauth_provisioning_queue_depth 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "correct horse battery") {
		t.Fatal("a password reached the metrics")
	}
}

func TestUnknownRefreshTokensDrawOnThePerIPBudget(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_LOGIN_RATE_PER_IP": "6"})
	body := s.Signup("new-user", "correct horse battery")
	var last response
	for range 20 {
		last = s.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-refresh-token"}})
		if last.Status == http.StatusTooManyRequests {
			break
		}
	}
	if last.Status != http.StatusTooManyRequests || last.JSON(t)["code"] != "rate_limited" || last.Header.Get("Retry-After") == "" {
		t.Fatalf("20 unknown refresh tokens: %d %s", last.Status, last.Body)
	}
	// A valid refresh token is never limited per IP.
	if r := s.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}); r.Status != http.StatusOK {
		t.Fatalf("a valid refresh token over the budget: %d %s", r.Status, r.Body)
	}
}
