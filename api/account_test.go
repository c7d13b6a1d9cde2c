package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

func TestPasswordChangeEndsEverySessionAndReturnsANewOne(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	first := s.Signup("new-user", servertest.GoodPassword)
	other := s.MustLogin("new-user", servertest.GoodPassword)
	testkit.NextSecond(t) // access tokens have whole-second iat

	for name, tc := range map[string]struct{ body, field string }{
		"wrong current password": {`{"current_password":"not the password","new_password":"a brand new secret"}`, "current_password"},
		"common new password":    {`{"current_password":"correct horse battery","new_password":"baseball"}`, "new_password"},
		"short new password":     {`{"current_password":"correct horse battery","new_password":"short"}`, "new_password"},
		"missing new password":   {`{"current_password":"correct horse battery"}`, "new_password"},
	} {
		r := s.PostJSON("/v1/me/password", tc.body, bearer(first)...)
		params, _ := r.JSON(t)["invalid_parameters"].([]any)
		if r.Status != http.StatusBadRequest || len(params) == 0 || params[0].(map[string]any)["name"] != tc.field {
			t.Fatalf("%s: %d %s", name, r.Status, r.Body)
		}
	}

	r := s.PostJSON("/v1/me/password", map[string]string{"current_password": servertest.GoodPassword, "new_password": "a brand new secret"}, bearer(first)...)
	if r.Status != http.StatusOK {
		t.Fatalf("password change: %d %s", r.Status, r.Body)
	}
	fresh := r.JSON(t)
	for name, tok := range map[string]string{"sign-up": first["refresh_token"].(string), "login": other["refresh_token"].(string)} {
		if got := s.refresh(tok); got.Status != http.StatusBadRequest || got.JSON(t)["error"] != "invalid_grant" {
			t.Fatalf("the %s session after a password change: %d %s", name, got.Status, got.Body)
		}
	}
	if got := s.Do(http.MethodGet, "/v1/me", "", nil, bearer(first)...); got.Status != http.StatusUnauthorized {
		t.Fatalf("an access token from before the change: %d", got.Status)
	}
	if got := s.Do(http.MethodGet, "/v1/me", "", nil, bearer(fresh)...); got.Status != http.StatusOK {
		t.Fatalf("the returned access token: %d %s", got.Status, got.Body)
	}
	if got := s.EmulatorDo(http.MethodGet, "/v1/users", fresh["access_token"].(string)); got.Status != http.StatusOK {
		t.Fatalf("the emulator refuses the returned token: %d %s", got.Status, got.Body)
	}
	if got := s.refresh(fresh["refresh_token"].(string)); got.Status != http.StatusOK {
		t.Fatalf("the returned refresh token: %d %s", got.Status, got.Body)
	}
	if got := s.Login("new-user", servertest.GoodPassword); got.Status != http.StatusBadRequest {
		t.Fatalf("the old password still logs in: %d", got.Status)
	}
	s.MustLogin("new-user", "a brand new secret")
	if got := s.Audit("password_changed"); len(got) != 1 || got[0].UserID != servertest.UserID(first) || got[0].Detail != "sessions_revoked=2" {
		t.Fatalf("audit of the change: %+v", got)
	}
}

func TestDeleteMeRemovesTheUserEverywhereAndReservesTheName(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	body := s.Signup("new-user", servertest.GoodPassword)
	vid := body["user"].(map[string]any)["vonage_user_id"].(string)

	if r := s.Do(http.MethodDelete, "/v1/me", "application/json", strings.NewReader(`{"password":"not the password"}`), bearer(body)...); r.Status != http.StatusBadRequest {
		t.Fatalf("delete with a wrong password: %d %s", r.Status, r.Body)
	}
	if r := s.Do(http.MethodDelete, "/v1/me", "application/json", strings.NewReader(`{"password":"correct horse battery"}`), bearer(body)...); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	testkit.WaitFor(t, 10*time.Second, "the Vonage user to be deleted", func() bool { return len(s.Em.Users(s.AppID)) == 0 })
	if s.Em.Stats()["DELETE /v1/users/{id} 204"] != 1 {
		t.Fatalf("stats %v", s.Em.Stats())
	}
	if r := s.Login("new-user", servertest.GoodPassword); r.Status != http.StatusBadRequest || r.JSON(t)["code"] != "invalid_credentials" {
		t.Fatalf("login after deletion: %d %s", r.Status, r.Body)
	}
	if r := s.refresh(body["refresh_token"].(string)); r.Status != http.StatusBadRequest {
		t.Fatalf("refresh after deletion: %d %s", r.Status, r.Body)
	}
	if r := s.Do(http.MethodGet, "/v1/me", "", nil, bearer(body)...); r.Status != http.StatusUnauthorized {
		t.Fatalf("the access token after deletion: %d", r.Status)
	}
	r := s.PostJSON("/v1/signup", map[string]string{"username": "New-User", "password": servertest.GoodPassword})
	if r.Status != http.StatusConflict || r.JSON(t)["code"] != "username_taken" {
		t.Fatalf("sign-up with the deleted name: %d %s", r.Status, r.Body)
	}
	if got := s.Audit("user_deleted"); len(got) != 1 || got[0].UserID != servertest.UserID(body) || got[0].Username != "new-user" {
		t.Fatalf("audit of the deletion: %+v", got)
	}
	if s.Count("provisioning_jobs") != 0 {
		t.Fatalf("jobs left: %d (vonage id %s)", s.Count("provisioning_jobs"), vid)
	}
}

func TestTokenIssuedBeforeTheUserWasCreatedIsRefused(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	old := s.Signup("new-user", servertest.GoodPassword)
	if r := s.Do(http.MethodDelete, "/v1/me", "application/json", strings.NewReader(`{"password":"correct horse battery"}`), bearer(old)...); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	testkit.WaitFor(t, 10*time.Second, "the Vonage user to be deleted", func() bool { return len(s.Em.Users(s.AppID)) == 0 })
	// Stand in for SDKAUTH_TOKEN_MAX_TTL passing: the reservation ends.
	if err := db.New(s.App.Pool).EndUsernameReservations(context.Background()); err != nil {
		t.Fatal(err)
	}
	testkit.NextSecond(t) // the new user is created a second later than the old token's iat
	s.Signup("new-user", servertest.GoodPassword)
	if r := s.Do(http.MethodGet, "/v1/me", "", nil, bearer(old)...); r.Status != http.StatusUnauthorized {
		t.Fatalf("the old user's token for the new user of that name: %d %s", r.Status, r.Body)
	}
}

func TestPatchMeUpdatesTheProfileAndTheVonageUser(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	body := s.Signup("new-user", servertest.GoodPassword)
	r := s.Do(http.MethodPatch, "/v1/me", "application/json",
		strings.NewReader(`{"display_name":"A New User","image_url":"https://example.com/a.png"}`), bearer(body)...)
	if r.Status != http.StatusOK || r.JSON(t)["display_name"] != "A New User" {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	testkit.WaitFor(t, 10*time.Second, "the Vonage user to follow", func() bool {
		u := s.Em.Users(s.AppID)
		return len(u) == 1 && u[0].DisplayName == "A New User" && u[0].ImageURL == "https://example.com/a.png"
	})
	// An empty string clears the image; an absent field is left alone.
	if r := s.Do(http.MethodPatch, "/v1/me", "application/json", strings.NewReader(`{"image_url":""}`), bearer(body)...); r.Status != http.StatusOK {
		t.Fatalf("clearing the image: %d %s", r.Status, r.Body)
	}
	testkit.WaitFor(t, 10*time.Second, "the image to be cleared", func() bool {
		u := s.Em.Users(s.AppID)
		return len(u) == 1 && u[0].ImageURL == "" && u[0].DisplayName == "A New User"
	})
	for name, b := range map[string]string{
		"bad url":       `{"image_url":"javascript:alert(1)"}`,
		"name too long": `{"display_name":"` + longString(201) + `"}`,
		"not a string":  `{"display_name":42}`,
	} {
		if r := s.Do(http.MethodPatch, "/v1/me", "application/json", strings.NewReader(b), bearer(body)...); r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if got := s.Audit("profile_updated"); len(got) != 2 || got[0].Detail != "display_name,image_url" || got[1].Detail != "image_url" {
		t.Fatalf("audit of the changes: %+v", got)
	}
}

func longString(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}
