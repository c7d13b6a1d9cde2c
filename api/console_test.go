package api_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/internal/servertest"
)

// consoleRequest sends a console request with a plain client (the console's
// pages are HTML, outside the JSON contract) that does not follow redirects.
func (s *stack) consoleRequest(method, path string, form url.Values, header ...string) *http.Response {
	s.T.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		s.T.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		s.T.Fatal(err)
	}
	res.Body.Close()
	return res
}

// consoleSignIn signs in with id and secret and returns the session cookie
// and its CSRF token.
func (s *stack) consoleSignIn(id, secret string, header ...string) (cookie *http.Cookie, csrf string) {
	s.T.Helper()
	res := s.consoleRequest(http.MethodPost, "/console/sign-in", url.Values{"client_id": {id}, "client_secret": {secret}}, header...)
	if res.StatusCode != http.StatusSeeOther || len(res.Cookies()) != 1 {
		s.T.Fatalf("sign-in: %d, cookies %v", res.StatusCode, res.Cookies())
	}
	cookie = res.Cookies()[0]
	csrf, err := db.New(s.App.Pool).LatestConsoleCSRF(context.Background())
	if err != nil {
		s.T.Fatal(err)
	}
	return cookie, csrf
}

func TestConsoleCookieHeadersAndExpiry(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	id, secret := s.NewClient("admin")

	// Every page has a strict policy: no script at all, nothing from
	// elsewhere, no framing, and nothing cached.
	page := s.consoleRequest(http.MethodGet, "/console/sign-in", nil)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page: %d", page.StatusCode)
	}
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "same-origin",
		"Content-Type":            "text/html; charset=utf-8",
	}
	for k, v := range want {
		if got := page.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}

	// On loopback the cookie cannot be Secure (plain HTTP); anywhere else
	// it is, with the __Host- prefix. Both are HttpOnly and SameSite=Strict.
	local := s.consoleRequest(http.MethodPost, "/console/sign-in", url.Values{"client_id": {id}, "client_secret": {secret}}, "Origin", s.URL)
	public := s.consoleRequest(http.MethodPost, "/console/sign-in", url.Values{"client_id": {id}, "client_secret": {secret}}, "Host", "auth.example.com")
	for _, tc := range []struct {
		res  *http.Response
		want string
	}{
		{local, `^sdkauth_console=[A-Za-z0-9_-]{43}; Path=/; Max-Age=28800; HttpOnly; SameSite=Strict$`},
		{public, `^__Host-sdkauth_console=[A-Za-z0-9_-]{43}; Path=/; Max-Age=28800; HttpOnly; Secure; SameSite=Strict$`},
	} {
		if got := tc.res.Header.Get("Set-Cookie"); tc.res.StatusCode != http.StatusSeeOther || !regexp.MustCompile(tc.want).MatchString(got) {
			t.Errorf("sign-in: %d, Set-Cookie %q, want %s", tc.res.StatusCode, got, tc.want)
		}
	}
	if r := s.consoleRequest(http.MethodPost, "/console/sign-in", url.Values{"client_id": {id}, "client_secret": {secret}}, "Origin", "http://evil.example"); r.StatusCode != http.StatusForbidden || len(r.Cookies()) != 0 {
		t.Errorf("a sign-in posted from another origin: %d %v", r.StatusCode, r.Cookies())
	}

	cookie, csrf := s.consoleSignIn(id, secret)
	users := func() *http.Response {
		return s.consoleRequest(http.MethodGet, "/console/users", nil, "Cookie", cookie.Name+"="+cookie.Value)
	}
	if r := users(); r.StatusCode != http.StatusOK {
		t.Fatalf("users with a session: %d", r.StatusCode)
	}

	// A state-changing request needs the session's token and, from a
	// browser, this origin.
	signOut := func(form url.Values, header ...string) int {
		return s.consoleRequest(http.MethodPost, "/console/sign-out", form, append([]string{"Cookie", cookie.Name + "=" + cookie.Value}, header...)...).StatusCode
	}
	for name, code := range map[string]int{
		"no token":              signOut(nil),
		"a wrong token":         signOut(url.Values{"csrf": {csrf + "x"}}),
		"Sec-Fetch-Site: cross": signOut(url.Values{"csrf": {csrf}}, "Sec-Fetch-Site", "cross-site"),
		"Sec-Fetch-Site: site":  signOut(url.Values{"csrf": {csrf}}, "Sec-Fetch-Site", "same-site"),
		"another Origin":        signOut(url.Values{"csrf": {csrf}}, "Origin", "http://127.0.0.1:1"),
	} {
		if code != http.StatusForbidden {
			t.Errorf("sign-out with %s: %d, want 403", name, code)
		}
	}
	if r := users(); r.StatusCode != http.StatusOK {
		t.Fatalf("a refused sign-out ended the session: %d", r.StatusCode)
	}

	// Idle and absolute expiry, by the database's clock: move the session's
	// times back rather than wait.
	ended := func(what string) {
		t.Helper()
		r := users()
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/console/sign-in?ended=1" {
			t.Errorf("%s: %d %s", what, r.StatusCode, r.Header.Get("Location"))
		}
	}
	// The console's clock is Postgres's now(): move it on by ageing the
	// sessions, idle for 30 minutes, gone after 8 hours.
	age := func(idle, expiry time.Duration) {
		t.Helper()
		if err := db.New(s.App.Pool).AgeConsoleSessions(context.Background(), db.AgeConsoleSessionsParams{IdleSeconds: idle.Seconds(), ExpirySeconds: expiry.Seconds()}); err != nil {
			t.Fatal(err)
		}
	}
	age(29*time.Minute, 0)
	if r := users(); r.StatusCode != http.StatusOK {
		t.Fatalf("a session used 29 minutes ago: %d", r.StatusCode)
	}
	age(31*time.Minute, 0)
	ended("a session idle for 31 minutes")

	cookie, _ = s.consoleSignIn(id, secret)
	age(0, 8*time.Hour+time.Second)
	ended("a session past its absolute expiry")

	// Rotating the client's secret ends what the old secret opened.
	cookie, _ = s.consoleSignIn(id, secret)
	if r := s.Do(http.MethodPost, "/v1/admin/clients/"+id+"/secret", "", nil, "Authorization", servertest.Basic(id, secret)); r.Status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.Status, r.Body)
	}
	ended("a session of a rotated client")

	// Signing out ends the session for good.
	id2, secret2 := s.NewClient("admin")
	cookie, csrf = s.consoleSignIn(id2, secret2)
	if code := signOut(url.Values{"csrf": {csrf}}, "Origin", s.URL, "Sec-Fetch-Site", "same-origin"); code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", code)
	}
	ended("a signed-out session")
}
