package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/internal/servertest"
)

// TestRefreshUnderStoredPolicy is the refresh grant for a user whose policy
// is a stored row: without ttl or acl (the single-statement rotation) the
// token carries that policy's acl, and a ttl over its maximum is refused
// without consuming the refresh token. With no grace window, a consumed
// token would come back as refresh_token_reused.
func TestRefreshUnderStoredPolicy(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_REFRESH_GRACE": "0s"})
	if r := s.put("/v1/admin/policies/read-only", readOnlyPolicy, "Authorization", s.AdminAuth("admin")); r.Status != http.StatusCreated {
		t.Fatalf("creating the policy: %d %s", r.Status, r.Body)
	}
	body := s.Signup("new-user", "correct horse battery")
	policies := auth.NewPolicies(s.App.Pool, s.App.Config.TokenTTL, s.App.Config.TokenMaxTTL, nil)
	if err := policies.SetUserPolicy(context.Background(), uuid.MustParse(servertest.UserID(body)), "read-only"); err != nil {
		t.Fatal(err)
	}
	r0 := body["refresh_token"].(string)

	refused := s.PostJSON("/v1/token", map[string]any{"grant_type": "refresh_token", "refresh_token": r0, "ttl": 7200})
	if code, name := firstInvalid(t, refused); refused.Status != http.StatusBadRequest || code != "validation_failed" || name != "ttl" {
		t.Fatalf("ttl=7200 under a 3600 s policy: %d %s", refused.Status, refused.Body)
	}

	r := s.refresh(r0)
	if r.Status != http.StatusOK || r.JSON(t)["expires_in"] != float64(900) {
		t.Fatalf("the refresh token after a refused grant: %d %s", r.Status, r.Body)
	}
	acl, _ := json.Marshal(servertest.DecodeSegment(t, r.JSON(t)["access_token"].(string), 1)["acl"])
	if string(acl) != `{"paths":{"/*/conversations/**":{"methods":["GET"]},"/*/users/**":{"methods":["GET"]}}}` {
		t.Fatalf("the refreshed token's acl is %s", acl)
	}

	longer := s.PostJSON("/v1/token", map[string]any{"grant_type": "refresh_token", "refresh_token": r.JSON(t)["refresh_token"], "ttl": 3600})
	if longer.Status != http.StatusOK || longer.JSON(t)["expires_in"] != float64(3600) {
		t.Fatalf("ttl=3600 under a 3600 s policy: %d %s", longer.Status, longer.Body)
	}
}
