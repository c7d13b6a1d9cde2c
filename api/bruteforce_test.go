package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

// attempts makes n wrong-password logins for username and returns the
// answers, without their request ids.
func (s *stack) wrongLogins(username string, n int) ([]int, []string, []string) {
	s.T.Helper()
	var statuses []int
	var bodies, retry []string
	for range n {
		r := s.Login(username, "not the password")
		statuses = append(statuses, r.Status)
		bodies = append(bodies, servertest.WithoutRequestID(s.T, r))
		retry = append(retry, r.Header.Get("Retry-After"))
	}
	return statuses, bodies, retry
}

func TestRepeatedWrongPasswordsAreDelayedAlikeForKnownAndUnknownUsers(t *testing.T) {
	t.Parallel()
	// The per-IP limit is off, so only the per-account delay is at work.
	s := newStack(t, map[string]string{"SDKAUTH_LOGIN_RATE_PER_IP": "0"})
	s.Signup("new-user", servertest.GoodPassword)
	known, knownBodies, retry := s.wrongLogins("new-user", 30)
	// The delay's end is stored: move it a minute on, which holds the clock
	// for this account, so it is still delayed below however slow the
	// machine is (the delay is a second or two).
	if err := db.New(s.App.Pool).AgeLoginFailures(context.Background(), db.AgeLoginFailuresParams{Key: auth.AccountKey("new-user"), Seconds: -60}); err != nil {
		t.Fatal(err)
	}
	unknown, unknownBodies, _ := s.wrongLogins("nobody-here", 30)

	first429 := func(statuses []int) int {
		for i, st := range statuses {
			if st == http.StatusTooManyRequests {
				return i
			}
			if st != http.StatusBadRequest {
				t.Fatalf("attempt %d answered %d", i+1, st)
			}
		}
		t.Fatal("30 wrong passwords in a row were never answered 429")
		return -1
	}
	k, u := first429(known), first429(unknown)
	if secs, err := strconv.Atoi(retry[k]); err != nil || secs < 1 {
		t.Fatalf("429 without a usable Retry-After: %q", retry[k])
	}
	// The same answers, in the same order, whether the account exists or not.
	if k != u || knownBodies[k] != unknownBodies[u] {
		t.Fatalf("first delay at attempt %d (known) and %d (unknown): %s / %s", k+1, u+1, knownBodies[k], unknownBodies[u])
	}
	for i := range k {
		if known[i] != unknown[i] || knownBodies[i] != unknownBodies[i] {
			t.Fatalf("attempt %d: a known user answers %d %s, an unknown one %d %s", i+1, known[i], knownBodies[i], unknown[i], unknownBodies[i])
		}
	}
	if p := s.Login("new-user", servertest.GoodPassword); p.Status != http.StatusTooManyRequests || p.JSON(t)["code"] != "rate_limited" {
		t.Fatalf("the right password while delayed: %d %s", p.Status, p.Body)
	}
	var reasons = map[string]int{}
	for _, e := range s.Audit("login_failed") {
		reasons[e.Reason]++
	}
	if reasons["wrong_password"] == 0 || reasons["unknown_user"] == 0 || reasons["account_delayed"] == 0 {
		t.Fatalf("login failures by reason: %v", reasons)
	}
}

// TestTheAccountDelayEnds: after 5 wrong passwords in a row (the README's
// number) the next attempt waits 1 s, even with the right password; then the
// right password works and forgets the failures.
func TestTheAccountDelayEnds(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_LOGIN_RATE_PER_IP": "0"})
	s.Signup("new-user", servertest.GoodPassword)
	statuses, _, retry := s.wrongLogins("new-user", 6)
	if statuses[4] != http.StatusBadRequest || statuses[5] != http.StatusTooManyRequests || retry[5] != "1" {
		t.Fatalf("statuses %v, Retry-After %q: want a 1 s delay after the fifth failure", statuses, retry[5])
	}
	// A delayed attempt is answered before the password is checked and
	// counts no failure, so the right one can be tried until the delay ends.
	testkit.WaitFor(t, 10*time.Second, "the delay to end", func() bool {
		r := s.Login("new-user", servertest.GoodPassword)
		if r.Status != http.StatusOK && r.Status != http.StatusTooManyRequests {
			t.Fatalf("the right password while delayed: %d %s", r.Status, r.Body)
		}
		return r.Status == http.StatusOK
	})
	// A success forgets the failures.
	if st, _, _ := s.wrongLogins("new-user", 5); st[4] != http.StatusBadRequest {
		t.Fatalf("failures were not forgotten after a success: %v", st)
	}
}

func TestPerIPLimitAndTrustedProxies(t *testing.T) {
	t.Parallel()
	// 6 a minute: a burst of 3, then one every 10 s.
	s := newStack(t, map[string]string{"SDKAUTH_LOGIN_RATE_PER_IP": "6", "SDKAUTH_TRUSTED_PROXIES": "127.0.0.1/32"})
	body := s.Signup("new-user", servertest.GoodPassword) // a sign-up counts too
	xff := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	for i, user := range []string{"new-user", "nobody-1"} {
		if r := s.Login(user, "not the password", xff("127.0.0.1")...); r.Status != http.StatusBadRequest {
			t.Fatalf("attempt %d within the burst: %d %s", i+1, r.Status, r.Body)
		}
	}
	r := s.Login("nobody-2", "not the password", xff("127.0.0.1")...)
	if r.Status != http.StatusTooManyRequests || r.JSON(t)["code"] != "rate_limited" {
		t.Fatalf("over the per-IP limit: %d %s", r.Status, r.Body)
	}
	if secs, _ := strconv.Atoi(r.Header.Get("Retry-After")); secs < 5 || secs > 11 {
		t.Fatalf("Retry-After %q, want about 10 s", r.Header.Get("Retry-After"))
	}
	// Refresh tokens are 256-bit random: valid ones are not limited per IP.
	if got := s.refresh(body["refresh_token"].(string)); got.Status != http.StatusOK {
		t.Fatalf("a refresh over the per-IP limit: %d %s", got.Status, got.Body)
	}
	// Behind a trusted proxy, X-Forwarded-For names the client.
	if got := s.Login("new-user", servertest.GoodPassword, xff("203.0.113.7")...); got.Status != http.StatusOK {
		t.Fatalf("another client behind the proxy: %d %s", got.Status, got.Body)
	}
	ok := s.Audit("login_succeeded")
	if len(ok) != 1 || ok[0].IP != "203.0.113.7" {
		t.Fatalf("audit of the login behind the proxy: %+v", ok)
	}
}

func TestXForwardedForIsIgnoredWithoutTrustedProxies(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_LOGIN_RATE_PER_IP": "6"})
	for i := range 3 {
		r := s.Login("nobody-here", "not the password", "X-Forwarded-For", "203.0.113."+strconv.Itoa(i+1))
		if r.Status != http.StatusBadRequest {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	if r := s.Login("nobody-else", "not the password", "X-Forwarded-For", "203.0.113.99"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("a forged X-Forwarded-For escaped the limit: %d %s", r.Status, r.Body)
	}
	if got := s.Audit("login_failed"); got[0].IP != "127.0.0.1" {
		t.Fatalf("audit ip %q, want the peer's", got[0].IP)
	}
}
