package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/internal/servertest"
)

// TestGuessablePasswordsAreRefusedEverywhereOneIsSet sends passwords that
// NIST SP 800-63B counts as commonly used (dictionary words and common
// passwords with the capitals, digits, years and symbols guessing tools try
// first) to sign-up, admin user creation and password change. Each answers
// 400 naming the field with the reason, never the password, and nothing is
// written; a passphrase of ordinary words is accepted by all three.
func TestGuessablePasswordsAreRefusedEverywhereOneIsSet(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	me := s.Signup("new-user", servertest.GoodPassword)
	usersBefore := s.Count("users")

	refused := func(t *testing.T, r response, field, password string) {
		t.Helper()
		if r.Status != http.StatusBadRequest || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		p := r.JSON(t)
		params, _ := p["invalid_parameters"].([]any)
		if p["code"] != "validation_failed" || len(params) != 1 {
			t.Fatalf("%s", r.Body)
		}
		param := params[0].(map[string]any)
		reason, _ := param["reason"].(string)
		if param["name"] != field || !(strings.Contains(reason, "too easy to guess") || strings.Contains(reason, "most common")) {
			t.Fatalf("invalid_parameters %v, want %s named with the reason", params, field)
		}
		if strings.Contains(strings.ToLower(string(r.Body)), strings.ToLower(password)) {
			t.Fatalf("the password is echoed: %s", r.Body)
		}
	}
	for _, tc := range []struct{ name, forAnotherUser, forNewUser string }{
		{"a common password and digits", "password123", "password123"},
		{"in capitals, with a symbol", "Password123!", "Password123!"},
		{"in l33t, with a year", "P@ssw0rd2024", "P@ssw0rd2024"},
		{"a word and a year", "Summer2024", "Summer2024"},
		{"a phrase and a year", "iloveyou2024", "iloveyou2024"},
		{"a keyboard walk", "qwertyuiop123", "qwertyuiop123"},
		{"the username and a year", "Another-User2024", "New-User2024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pw := tc.forAnotherUser
			refused(t, s.PostJSON("/v1/signup", map[string]string{"username": "another-user", "password": pw}), "password", pw)
			refused(t, s.PostJSON("/v1/admin/users", map[string]string{"username": "another-user", "password": pw}, "Authorization", admin), "password", pw)
			pw = tc.forNewUser
			refused(t, s.PostJSON("/v1/me/password", map[string]string{"current_password": servertest.GoodPassword, "new_password": pw}, bearer(me)...), "new_password", pw)
		})
	}
	if n := s.Count("users"); n != usersBefore {
		t.Fatalf("%d users, want %d: a refused password created one", n, usersBefore)
	}
	s.MustLogin("new-user", servertest.GoodPassword) // the password was not changed

	const passphrase = "quiet lantern river"
	if r := s.PostJSON("/v1/signup", map[string]string{"username": "signed-up-user", "password": passphrase}); r.Status != http.StatusCreated {
		t.Fatalf("sign-up with a passphrase: %d %s", r.Status, r.Body)
	}
	if r := s.PostJSON("/v1/admin/users", map[string]string{"username": "created-user", "password": passphrase}, "Authorization", admin); r.Status != http.StatusCreated {
		t.Fatalf("admin create with a passphrase: %d %s", r.Status, r.Body)
	}
	if r := s.PostJSON("/v1/me/password", map[string]string{"current_password": servertest.GoodPassword, "new_password": passphrase}, bearer(me)...); r.Status != http.StatusOK {
		t.Fatalf("password change to a passphrase: %d %s", r.Status, r.Body)
	}
}
