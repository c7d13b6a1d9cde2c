package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

// signupDuringOutage signs n new users up while Vonage fails and checks
// each answer is 202 with a refresh token and no access token, and that
// their token requests are refused as pending without spending anything.
func (s *stack) signupDuringOutage(n int) []map[string]any {
	t := s.T
	t.Helper()
	var bodies []map[string]any
	for i := range n {
		r := s.PostJSON("/v1/signup", map[string]string{"username": fmt.Sprintf("new-user-%02d", i), "password": servertest.GoodPassword})
		b := r.JSON(t)
		if r.Status != http.StatusAccepted || r.Header.Get("Retry-After") == "" || b["access_token"] != nil || b["refresh_token"] == "" ||
			b["user"].(map[string]any)["provisioning"] != "pending" {
			t.Fatalf("sign-up %d during the outage: %d %s", i, r.Status, r.Body)
		}
		bodies = append(bodies, b)
	}
	for i, b := range bodies {
		for grant, r := range map[string]response{
			"refresh":  s.refresh(b["refresh_token"].(string)),
			"password": s.Login(b["user"].(map[string]any)["username"].(string), servertest.GoodPassword),
		} {
			if r.Status != http.StatusServiceUnavailable || r.JSON(t)["code"] != "provisioning_pending" || r.Header.Get("Retry-After") == "" {
				t.Fatalf("%s grant for pending user %d: %d %s", grant, i, r.Status, r.Body)
			}
		}
	}
	return bodies
}

// convergesAfterOutage waits until every user signed up exists at the
// emulator exactly once, then checks each refresh token (never spent while
// pending) now yields an access token the emulator accepts.
func (s *stack) convergesAfterOutage(bodies []map[string]any, within time.Duration) {
	t := s.T
	t.Helper()
	// A user is stored at the emulator a moment before its 201 is counted
	// (the count is taken as the answer is written, after the store), and
	// a moment before its job commits here. A test that waited only for the
	// users could count 19 creates for 20 names, or find a user pending:
	// wait for all three.
	testkit.WaitFor(t, within, "every user to reach Vonage, its create to be counted and the outbox to empty", func() bool {
		return len(s.Em.Users(s.AppID)) >= len(bodies) && s.Em.Stats()["POST /v1/users 201"] >= len(bodies) &&
			s.Count("provisioning_jobs") == 0
	})
	names := map[string]int{}
	for _, u := range s.Em.Users(s.AppID) {
		names[u.Name]++
	}
	if created := s.Em.Stats()["POST /v1/users 201"]; created != len(bodies) || len(names) != len(bodies) {
		t.Fatalf("%d creates for %d distinct names, want %d of each", created, len(names), len(bodies))
	}
	for i, b := range bodies {
		name := b["user"].(map[string]any)["username"].(string)
		if names[name] != 1 {
			t.Fatalf("%s exists %d times at Vonage", name, names[name])
		}
		r := s.refresh(b["refresh_token"].(string))
		if r.Status != http.StatusOK {
			t.Fatalf("user %d's refresh token after recovery: %d %s", i, r.Status, r.Body)
		}
		got := r.JSON(t)
		vid := got["user"].(map[string]any)["vonage_user_id"].(string)
		if e := s.EmulatorDo(http.MethodGet, "/v1/users/"+vid, got["access_token"].(string)); e.Status != http.StatusOK {
			t.Fatalf("the emulator refuses user %d's token: %d %s", i, e.Status, e.Body)
		}
	}
	if n := s.Count("provisioning_jobs"); n != 0 {
		t.Fatalf("%d jobs left in the outbox", n)
	}
}

func TestSignupsDuringAnOutageAreProvisionedAfterIt(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_LOGIN_RATE_PER_IP": "0"})
	s.SetFaults(`{"path": "/v1/users", "method": "POST", "status": 503}`)
	bodies := s.signupDuringOutage(20)
	s.ClearFaults()
	s.convergesAfterOutage(bodies, 30*time.Second)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_LOGIN_RATE_PER_IP": "0"})
	s.SetFaults(`{"path": "/v1/users", "method": "POST", "status": 429, "retry_after": 2}`)
	bodies := s.signupDuringOutage(20)
	testkit.WaitFor(t, 30*time.Second, "a retry to meet the 429 again", func() bool {
		seen := map[string]bool{}
		for _, r := range s.EmLog.Requests(http.MethodPost, "/v1/users") {
			if r.Status == http.StatusTooManyRequests {
				if seen[r.Name] {
					return true
				}
				seen[r.Name] = true
			}
		}
		return false
	})
	s.ClearFaults()
	s.convergesAfterOutage(bodies, 30*time.Second)

	byName := map[string][]servertest.EmulatorRequest{}
	limited := 0
	for _, r := range s.EmLog.Requests(http.MethodPost, "/v1/users") {
		byName[r.Name] = append(byName[r.Name], r)
		if r.Status == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("no create was answered 429: the test proves nothing")
	}
	for name, reqs := range byName {
		for i := 1; i < len(reqs); i++ {
			if prev := reqs[i-1]; prev.Status == http.StatusTooManyRequests {
				if gap := reqs[i].Arrived.Sub(prev.Answered); gap < 2*time.Second {
					t.Errorf("%s was retried %s after a 429 with Retry-After: 2", name, gap)
				}
			}
		}
	}
}

func TestProfileUpdateAndDeleteDuringAnOutageConverge(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	a := s.Signup("new-user-a", servertest.GoodPassword)
	b := s.Signup("new-user-b", servertest.GoodPassword)
	s.SetFaults(`[{"path": "/v1/users/", "method": "PATCH", "status": 503}, {"path": "/v1/users/", "method": "DELETE", "status": 500}]`)
	if r := s.Do(http.MethodPatch, "/v1/me", "application/json", strings.NewReader(`{"display_name":"A New User"}`), bearer(a)...); r.Status != http.StatusOK {
		t.Fatalf("patch during the outage: %d %s", r.Status, r.Body)
	}
	if r := s.Do(http.MethodDelete, "/v1/me", "application/json", strings.NewReader(`{"password":"`+servertest.GoodPassword+`"}`), bearer(b)...); r.Status != http.StatusNoContent {
		t.Fatalf("delete during the outage: %d %s", r.Status, r.Body)
	}
	testkit.WaitFor(t, 10*time.Second, "both jobs to fail at least once", func() bool {
		st := s.Em.Stats()
		return st["PATCH /v1/users/{id} 503"] > 0 && st["DELETE /v1/users/{id} 500"] > 0
	})
	s.ClearFaults()
	testkit.WaitFor(t, 30*time.Second, "the update and the deletion to reach Vonage", func() bool {
		u := s.Em.Users(s.AppID)
		return len(u) == 1 && u[0].Name == "new-user-a" && u[0].DisplayName == "A New User"
	})
	testkit.WaitFor(t, 5*time.Second, "the outbox to empty", func() bool { return s.Count("provisioning_jobs") == 0 })
	if got := s.Em.Stats(); got["PATCH /v1/users/{id} 200"] != 1 || got["DELETE /v1/users/{id} 204"] != 1 {
		t.Fatalf("stats %v", got)
	}
}
