package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sdkauth/sdkauth/internal/browsertest"
	"github.com/sdkauth/sdkauth/internal/servertest"
)

// consoleTab drives the admin console in headless Chromium.
type consoleTab struct {
	t   *testing.T
	s   *stack
	b   *browsertest.Browser
	ctx context.Context
}

// goTo runs actions that end in a page load (a link followed, a form sent)
// and returns the status of the page that loaded.
func (c *consoleTab) goTo(what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	c.t.Helper()
	res, err := chromedp.RunResponse(c.ctx, actions...)
	if err != nil {
		c.t.Fatalf("%s: %v (page logged %q)", what, err, c.b.Problems())
	}
	return res.Status
}

// eval evaluates a JavaScript expression in the page.
func (c *consoleTab) eval(expression string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](expression))
	if err != nil {
		c.t.Fatalf("%s: %v", expression, err)
	}
	return v
}

// text is what the page's main part shows.
func (c *consoleTab) text() string { return c.eval(`document.querySelector("main").innerText`) }

func (c *consoleTab) expect(status, want int64, wantText ...string) {
	c.t.Helper()
	text := c.text()
	if status != want {
		c.t.Errorf("%s answered %d, want %d: %s", c.eval("location.href"), status, want, text)
	}
	for _, w := range wantText {
		if !strings.Contains(text, w) {
			c.t.Errorf("%s does not show %q:\n%s", c.eval("location.href"), w, text)
		}
	}
}

// signIn types a client's id and secret into the sign-in page and sends
// it with Enter, as an admin would.
func (c *consoleTab) signIn(id, secret string) int64 {
	c.t.Helper()
	c.eval(`document.getElementById("client_id").value = ""`)
	return c.goTo("sign in",
		chromedp.SendKeys(chromedp.CSS("#client_id"), id),
		chromedp.SendKeys(chromedp.CSS("#client_secret"), secret+kb.Enter))
}

func (s *stack) userDisabled(t *testing.T, username string) bool {
	t.Helper()
	return s.User(username).Disabled
}

// TestConsoleInChromium signs in to the console as an admin would, with the
// keyboard, finds a user, disables and re-enables it, revokes its sessions,
// manages a service client and signs out; a wrong secret, a form without
// its CSRF token and a form posted from another origin are refused; and
// every action is in the audit log with the acting client.
func TestConsoleInChromium(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_REFRESH_GRACE": "0s"})
	adminID, adminSecret := s.NewClient("admin")
	tokensOnlyID, tokensOnlySecret := s.NewClient("tokens:admin")
	var lines strings.Builder
	for i := range 26 {
		fmt.Fprintf(&lines, `{"username":"listed-user-%02d","password":"correct horse battery"}`+"\n", i)
	}
	s.importUsers(servertest.Basic(adminID, adminSecret), lines.String())
	refresh := s.Signup("new-user", "correct horse battery")["refresh_token"].(string)

	b := browsertest.New(t)
	ctx, cancel := context.WithTimeout(b.Ctx, 3*time.Minute)
	defer cancel()
	c := &consoleTab{t: t, s: s, b: b, ctx: ctx}

	// Signed out, the console sends the browser to sign in.
	c.expect(c.goTo("open the console", chromedp.Navigate(s.URL+"/console/users")), 200, "Sign in with a service client")
	if got := c.eval("location.pathname"); got != "/console/sign-in" {
		t.Fatalf("signed out, /console/users led to %s", got)
	}
	b.Screenshot(t, "console-sign-in")

	c.expect(c.signIn(adminID, "not-the-secret"), 401, "The client id or secret is wrong.")
	b.Screenshot(t, "console-sign-in-refused")
	c.expect(c.signIn(tokensOnlyID, tokensOnlySecret), 403, `lacks the "admin" scope`)

	// 27 users: a page of 25 and a page of 2, each user shown once.
	listed := func() []string {
		return strings.Split(c.eval(`[...document.querySelectorAll("tbody td:first-child")].map(td => td.innerText).join(",")`), ",")
	}
	c.expect(c.signIn(adminID, adminSecret), 200, "Next page")
	first := listed()
	b.Screenshot(t, "console-users")
	c.expect(c.goTo("next page", chromedp.Click(chromedp.CSS(`a[rel="next"]`))), 200, "First page")
	second := listed()
	seen := map[string]bool{}
	for _, u := range append(first, second...) {
		seen[u] = true
	}
	if len(first) != 25 || len(second) != 2 || len(seen) != 27 || !seen["new-user"] || strings.Contains(c.text(), "Next page") {
		t.Errorf("paging showed %q then %q", first, second)
	}

	// Find the user by a prefix of its name and open its profile.
	c.expect(c.goTo("search", chromedp.SendKeys(chromedp.CSS("#username"), "new-"+kb.Enter)), 200, "new-user")
	if rows := c.eval(`String(document.querySelectorAll("tbody tr").length)`); rows != "1" {
		t.Errorf("searching new- found %s users:\n%s", rows, c.text())
	}
	b.Screenshot(t, "console-users-search")
	c.expect(c.goTo("open the user", chromedp.Click(chromedp.CSS(`tbody a`))), 200, "new-user", "Vonage user id", "USR-", "provisioned", "client-sdk", "active")
	userURL := c.eval("location.href")
	b.Screenshot(t, "console-user")

	c.expect(c.goTo("disable", chromedp.Click(chromedp.CSS(`form[action$="/disable"] button`))), 200, "The user is disabled", "disabled")
	if !s.userDisabled(t, "new-user") {
		t.Fatal("the console did not disable the user")
	}
	b.Screenshot(t, "console-user-disabled")
	c.expect(c.goTo("enable", chromedp.Click(chromedp.CSS(`form[action$="/enable"] button`))), 200, "The user is enabled again.")
	if s.userDisabled(t, "new-user") {
		t.Fatal("the console did not enable the user")
	}
	c.expect(c.goTo("revoke sessions", chromedp.Click(chromedp.CSS(`form[action$="/revoke-sessions"] button`))), 200, "Sessions revoked: 1.")
	b.Screenshot(t, "console-user-revoked")
	if r := s.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); r.Status != http.StatusBadRequest {
		t.Errorf("a refresh token outlived the console's revocation: %d %s", r.Status, r.Body)
	}

	// A form that lost its CSRF token is refused, and nothing changes.
	c.eval(`document.querySelector('form[action$="/disable"] input[name=csrf]').remove(), ""`)
	c.expect(c.goTo("disable without a CSRF token", chromedp.Click(chromedp.CSS(`form[action$="/disable"] button`))), 403, "CSRF token is missing or stale")
	b.Screenshot(t, "console-csrf-refused")
	if s.userDisabled(t, "new-user") {
		t.Fatal("a form without its CSRF token disabled the user")
	}

	// A page of another origin posts the console's own form, token and all
	// (as if the token had leaked). Another port of this host is the same
	// site, so the SameSite=Strict cookie goes with it: the Origin and
	// Sec-Fetch-Site checks are what refuse it.
	c.expect(c.goTo("back to the user", chromedp.Navigate(userURL)), 200)
	csrf := c.eval(`document.querySelector('input[name=csrf]').value`)
	forger := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/disable"><input type="hidden" name="csrf" value="%s"><button>Win a prize</button></form>`, userURL, csrf)
	}))
	t.Cleanup(forger.Close)
	c.goTo("open the forger's page", chromedp.Navigate(forger.URL))
	c.expect(c.goTo("cross-site post", chromedp.Click(chromedp.CSS("button"))), 403, "did not come from this console")
	b.Screenshot(t, "console-cross-site-refused")
	if s.userDisabled(t, "new-user") {
		t.Fatal("a cross-site form disabled the user")
	}

	// Service clients: the secret is shown once, works, and is gone on
	// the next visit; rotating and deleting take effect at once.
	c.expect(c.goTo("clients", chromedp.Navigate(s.URL+"/console/clients")), 200, adminID, "Create a client")
	c.goTo("create a client",
		chromedp.SendKeys(chromedp.CSS("#name"), "a reporting job"),
		chromedp.Click(chromedp.CSS(`input[value="tokens:admin"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/console/clients"] button`)))
	c.expect(201, 201, "shown this once")
	newID, secret := c.eval(`document.getElementById("client-id").innerText`), c.eval(`document.getElementById("client-secret").innerText`)
	b.Screenshot(t, "console-client-secret")
	credentials := func(id, secret string) int {
		return s.Do(http.MethodPost, "/v1/token", "application/x-www-form-urlencoded", strings.NewReader("grant_type=client_credentials"), "Authorization", servertest.Basic(id, secret)).Status
	}
	if got := credentials(newID, secret); got != http.StatusOK {
		t.Errorf("the new client's secret: %d", got)
	}
	c.expect(c.goTo("clients again", chromedp.Navigate(s.URL+"/console/clients")), 200, "a reporting job", newID)
	if strings.Contains(c.eval("document.documentElement.outerHTML"), secret) {
		t.Error("the clients page shows the secret again")
	}
	b.Screenshot(t, "console-clients")
	c.expect(c.goTo("rotate", chromedp.Click(chromedp.CSS(`form[action="/console/clients/`+newID+`/rotate"] button`))), 200, "The old secret of a reporting job no longer works.")
	rotated := c.eval(`document.getElementById("client-secret").innerText`)
	if credentials(newID, secret) != http.StatusUnauthorized || credentials(newID, rotated) != http.StatusOK {
		t.Error("rotating in the console did not replace the secret")
	}
	c.goTo("clients after rotating", chromedp.Navigate(s.URL+"/console/clients"))
	c.expect(c.goTo("delete", chromedp.Click(chromedp.CSS(`form[action="/console/clients/`+newID+`/delete"] button`))), 200, "The client is deleted")
	if strings.Contains(c.text(), newID) || credentials(newID, rotated) != http.StatusUnauthorized {
		t.Error("the deleted client lives on")
	}

	// Signing out ends the session here and on every replica.
	c.expect(c.goTo("sign out", chromedp.Click(chromedp.CSS(`form[action="/console/sign-out"] button`))), 200, "Sign in with a service client")
	c.goTo("users after signing out", chromedp.Navigate(s.URL+"/console/users"))
	if got := c.eval("location.pathname"); got != "/console/sign-in" {
		t.Errorf("after signing out, /console/users led to %s", got)
	}
	if n := s.Count("console_sessions"); n != 0 {
		t.Errorf("%d console sessions after signing out", n)
	}

	// Each action is in the audit log with the acting client, as the admin
	// API records it; the refused forms left no row.
	var got []string
	failed := 0
	for _, e := range s.Audit("") {
		if e.Event == "client_auth_failed" && e.Detail == adminID {
			failed++
		}
		if e.Actor != "client:"+adminID || e.Event == "signup" || e.Event == "users_imported" {
			continue
		}
		row := []string{e.Event}
		if e.Username != "" {
			row = append(row, e.Username)
		}
		if first, _, _ := strings.Cut(e.Detail, " "); first != "" {
			row = append(row, first)
		}
		got = append(got, strings.Join(row, " "))
	}
	want := []string{
		"console_signed_in",
		"user_updated new-user disabled=true",
		"user_updated new-user disabled=false",
		"logout",
		"client_created " + newID,
		"client_secret_rotated " + newID,
		"client_deleted " + newID,
		"console_signed_out",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the console's audit rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if failed != 1 {
		t.Errorf("the wrong secret is audited as a failed client authentication %d times, want once", failed)
	}
	// The refusals above are pages answered 401 and 403, which Chromium
	// logs; anything else (a missing file, a CSP violation) is a defect.
	for _, p := range b.Problems() {
		if !strings.Contains(p, "status of 401 (Unauthorized)") && !strings.Contains(p, "status of 403 (Forbidden)") {
			t.Errorf("a console page logged %s", p)
		}
	}
}
