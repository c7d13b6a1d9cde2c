package api_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

func TestConcurrentRefreshesOfOneTokenLeaveOneLiveSession(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	body := s.Signup("new-user", servertest.GoodPassword)
	r0 := body["refresh_token"].(string)

	const n = 20
	var wg sync.WaitGroup
	results := make([]response, n)
	for i := range n {
		wg.Go(func() { results[i] = s.refresh(r0) })
	}
	wg.Wait()
	ok := 0
	for _, r := range results {
		switch {
		case r.Status == http.StatusOK:
			ok++
		case r.Status >= 400 && r.Status < 500 && r.Header.Get("Content-Type") == "application/problem+json":
		default:
			t.Errorf("a concurrent refresh answered %d %s", r.Status, r.Body)
		}
	}
	if ok == 0 {
		t.Fatal("no concurrent refresh succeeded")
	}
	if live := s.liveSessions(servertest.UserID(body)); live != 1 {
		t.Fatalf("%d live sessions, want exactly 1", live)
	}
	// Every token handed out belongs to that one session and works.
	for _, r := range results {
		if r.Status == http.StatusOK {
			if got := s.refresh(r.JSON(t)["refresh_token"].(string)); got.Status != http.StatusOK {
				t.Fatalf("a token from a concurrent refresh: %d %s", got.Status, got.Body)
			}
		}
	}
	if live := s.liveSessions(servertest.UserID(body)); live != 1 {
		t.Fatalf("%d live sessions after using them, want 1", live)
	}
}

func TestReuseAfterTheGraceWindowRevokesTheSession(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_REFRESH_GRACE": "1s"})
	body := s.Signup("new-user", servertest.GoodPassword)
	r0 := body["refresh_token"].(string)
	first := s.refresh(r0)
	if first.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", first.Status, first.Body)
	}
	r1 := first.JSON(t)["refresh_token"].(string)
	// Within the grace window the old token still works (two tabs).
	if again := s.refresh(r0); again.Status != http.StatusOK {
		t.Fatalf("within the grace window: %d %s", again.Status, again.Body)
	}
	s.age(body, 2) // past the 1 s grace window
	reused := s.refresh(r0)
	p := reused.JSON(t)
	if reused.Status != http.StatusBadRequest || p["code"] != "refresh_token_reused" || p["error"] != "invalid_grant" {
		t.Fatalf("reuse after the grace window: %d %s", reused.Status, reused.Body)
	}
	after := s.refresh(r1)
	if p := after.JSON(t); after.Status != http.StatusBadRequest || p["code"] != "invalid_grant" {
		t.Fatalf("the newer token after reuse: %d %s", after.Status, after.Body)
	}
	if s.liveSessions(servertest.UserID(body)) != 0 {
		t.Fatal("the session is still live after reuse")
	}
	if got := s.Audit("refresh_token_reused"); len(got) != 1 || got[0].UserID != servertest.UserID(body) {
		t.Fatalf("audit of the reuse: %+v", got)
	}
}

func TestLogoutEndsOneSessionAndGlobalLogoutEndsAll(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.Signup("new-user", servertest.GoodPassword)
	a := s.MustLogin("new-user", servertest.GoodPassword)
	b := s.MustLogin("new-user", servertest.GoodPassword)
	c := s.MustLogin("new-user", servertest.GoodPassword)

	if r := s.PostJSON("/v1/logout", map[string]string{"refresh_token": a["refresh_token"].(string)}); r.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r := s.refresh(a["refresh_token"].(string)); r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_grant" {
		t.Fatalf("the logged-out session: %d %s", r.Status, r.Body)
	}
	rb := s.refresh(b["refresh_token"].(string))
	if rb.Status != http.StatusOK {
		t.Fatalf("another session after a logout: %d %s", rb.Status, rb.Body)
	}
	if r := s.PostJSON("/v1/logout", map[string]string{"refresh_token": "never-issued"}); r.Status != http.StatusNoContent {
		t.Fatalf("logout of an unknown token (RFC 7009): %d %s", r.Status, r.Body)
	}
	if r := s.PostJSON("/v1/logout", map[string]string{}); r.Status != http.StatusBadRequest {
		t.Fatalf("logout of nothing: %d %s", r.Status, r.Body)
	}
	if r := s.PostJSON("/v1/logout", map[string]string{"scope": "global"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("global logout without a bearer: %d %s", r.Status, r.Body)
	}

	testkit.NextSecond(t) // access tokens have whole-second iat
	if r := s.PostJSON("/v1/logout", map[string]string{"scope": "global"}, bearer(c)...); r.Status != http.StatusNoContent {
		t.Fatalf("global logout: %d %s", r.Status, r.Body)
	}
	for name, tok := range map[string]string{"b": rb.JSON(t)["refresh_token"].(string), "c": c["refresh_token"].(string)} {
		if r := s.refresh(tok); r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_grant" {
			t.Fatalf("session %s after a global logout: %d %s", name, r.Status, r.Body)
		}
	}
	if r := s.Do(http.MethodGet, "/v1/me", "", nil, bearer(c)...); r.Status != http.StatusUnauthorized {
		t.Fatalf("an access token from before the global logout: %d %s", r.Status, r.Body)
	}
	// Logging in again works: a logout is not a lock.
	d := s.MustLogin("new-user", servertest.GoodPassword)
	if r := s.Do(http.MethodGet, "/v1/me", "", nil, bearer(d)...); r.Status != http.StatusOK {
		t.Fatalf("a new login after a global logout: %d %s", r.Status, r.Body)
	}
	var reasons []string
	for _, e := range s.Audit("logout") {
		reasons = append(reasons, e.Reason)
	}
	if len(reasons) != 2 || reasons[0] != "session" || reasons[1] != "global" {
		t.Fatalf("logout audit reasons %v", reasons)
	}
}
