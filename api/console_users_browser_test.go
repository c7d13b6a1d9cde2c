package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/users"
)

// actorOf returns the acting client of the audit rows of event for the
// user with id, in the order written.
func (s *stack) actorOf(event, userID string) []string {
	s.T.Helper()
	var out []string
	for _, e := range s.Audit(event) {
		if e.UserID == userID {
			out = append(out, e.Actor)
		}
	}
	return out
}

// listedUsers is the usernames the users page lists.
func (c *consoleTab) listedUsers() []string {
	return strings.Split(c.eval(`[...document.querySelectorAll("tbody td:first-child")].map(td => td.innerText).join(",")`), ",")
}

// TestConsoleUserFiltersInChromium narrows the users page by provisioning
// state and by status, and the filters stay on the next page's link.
func TestConsoleUserFiltersInChromium(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	adminID, adminSecret := s.NewClient("admin")
	admin := servertest.Basic(adminID, adminSecret)
	disabled := servertest.UserID(s.Signup("disabled-user", servertest.GoodPassword))
	if r := s.Do(http.MethodPatch, "/v1/admin/users/"+disabled, "application/json", strings.NewReader(`{"disabled":true}`), "Authorization", admin); r.Status != http.StatusOK {
		t.Fatalf("disabling: %d %s", r.Status, r.Body)
	}
	s.SetFaults(`{"path": "/v1/users", "method": "POST", "status": 400}`)
	if r := s.PostJSON("/v1/signup", map[string]string{"username": "failed-user", "password": servertest.GoodPassword}); r.Status != http.StatusAccepted {
		t.Fatalf("sign-up refused at Vonage: %d %s", r.Status, r.Body)
	}
	s.ClearFaults()
	var lines strings.Builder
	for i := range 26 {
		fmt.Fprintf(&lines, `{"username":"listed-user-%02d","password":"correct horse battery"}`+"\n", i)
	}
	s.importUsers(admin, lines.String())

	c := signedInConsole(t, s, adminID, adminSecret)
	b := c.b
	c.setField("provisioning", users.StateFailed)
	c.expect(c.goTo("filter failed", chromedp.Click(chromedp.CSS(`form.filters button`))), 200, "Clear")
	if got := strings.Join(c.listedUsers(), ","); got != "failed-user" {
		t.Errorf("provisioning=failed lists %s", got)
	}
	b.Screenshot(t, "console-users-failed")

	c.expect(c.goTo("filter disabled", chromedp.Navigate(s.URL+"/console/users")), 200)
	c.setField("disabled", "true")
	c.expect(c.goTo("filter disabled", chromedp.Click(chromedp.CSS(`form.filters button`))), 200)
	if got := strings.Join(c.listedUsers(), ","); got != "disabled-user" {
		t.Errorf("disabled=true lists %s", got)
	}
	b.Screenshot(t, "console-users-disabled")

	// 26 imported users and failed-user are active: two pages, the
	// second reached with the filter kept.
	c.setField("disabled", "false")
	c.expect(c.goTo("filter active", chromedp.Click(chromedp.CSS(`form.filters button`))), 200, "Next page")
	first := c.listedUsers()
	if next := c.eval(`document.querySelector('a[rel="next"]').getAttribute("href")`); !strings.Contains(next, "disabled=false") {
		t.Errorf("the next page's link drops the filter: %s", next)
	}
	c.expect(c.goTo("next page", chromedp.Click(chromedp.CSS(`a[rel="next"]`))), 200, "First page")
	second := c.listedUsers()
	if first := c.eval(`document.querySelector('.pager a').getAttribute("href")`); first != "/console/users?disabled=false" {
		t.Errorf("the first page's link is %s", first)
	}
	all := strings.Join(append(first, second...), ",")
	if len(first) != 25 || len(second) != 2 || strings.Contains(all, "disabled-user") || !strings.Contains(all, "failed-user") {
		t.Errorf("disabled=false paged %q then %q", first, second)
	}
	c.expect(c.goTo("a bad filter", chromedp.Navigate(s.URL+"/console/users?provisioning=lost")), 400, "must be pending")
	for _, p := range b.Problems() {
		if !strings.Contains(p, "status of 400 (Bad Request)") {
			t.Errorf("a console page logged %s", p)
		}
	}
}

// TestConsoleUserActionsInChromium shows a user's live sessions, moves
// the user to another policy (the next token carries its ACL), refuses to
// mint a token for a client without tokens:user and mints one for a
// client with it (the token works at /v1/me), and deletes the user after
// a confirmation; the audit log names the acting client of each.
func TestConsoleUserActionsInChromium(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	adminID, adminSecret := s.NewClient("admin")
	minterID, minterSecret := s.NewClient("admin,tokens:user")
	admin := servertest.Basic(adminID, adminSecret)
	if r := s.put("/v1/admin/policies/read-only", readOnlyPolicy, "Authorization", admin); r.Status != http.StatusCreated {
		t.Fatalf("creating a policy: %d %s", r.Status, r.Body)
	}
	id := servertest.UserID(s.Signup("new-user", servertest.GoodPassword))
	s.MustLogin("new-user", servertest.GoodPassword)

	c := signedInConsole(t, s, adminID, adminSecret)
	b := c.b
	c.expect(c.goTo("the user", chromedp.Navigate(s.URL+"/console/users/"+id)), 200, "Live sessions", "Last used")
	if n := c.eval(`String(document.querySelectorAll("#sessions tbody tr").length)`); n != "2" {
		t.Errorf("sign-up and a login show %s live sessions:\n%s", n, c.text())
	}
	b.Screenshot(t, "console-user-sessions")

	c.setField("policy", "read-only")
	c.expect(c.goTo("change policy", chromedp.Click(chromedp.CSS(`form[action$="/policy"] button`))), 200, "The policy is changed")
	if got := c.eval(`document.getElementById("user-policy").innerText`); got != "read-only" {
		t.Errorf("after the change the page shows policy %s", got)
	}
	b.Screenshot(t, "console-user-policy")
	tok := s.MustLogin("new-user", servertest.GoodPassword)["access_token"].(string)
	wantACL := `{"paths":{"/*/conversations/**":{"methods":["GET"]},"/*/users/**":{"methods":["GET"]}}}`
	if acl, _ := json.Marshal(servertest.DecodeSegment(t, tok, 1)["acl"]); string(acl) != wantACL {
		t.Errorf("the next token's acl is %s", acl)
	}

	c.expect(c.goTo("mint without tokens:user", chromedp.Click(chromedp.CSS(`form[action$="/token"] button`))), 403, `needs the "tokens:user" scope`)
	b.Screenshot(t, "console-user-token-refused")
	if got := s.actorOf("user_token_issued", id); len(got) != 0 {
		t.Errorf("a refused mint is audited as issued: %q", got)
	}

	m := signedInConsole(t, s, minterID, minterSecret)
	m.expect(m.goTo("the user", chromedp.Navigate(s.URL+"/console/users/"+id)), 200)
	m.expect(m.goTo("mint", chromedp.Click(chromedp.CSS(`form[action$="/token"] button`))), 200, "shown this once", "Expires")
	minted := m.eval(`document.getElementById("user-token").innerText`)
	m.b.Screenshot(t, "console-user-token")
	if r := s.Do(http.MethodGet, "/v1/me", "", nil, "Authorization", "Bearer "+minted); r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"username":"new-user"`) {
		t.Errorf("the minted token at /v1/me: %d %s", r.Status, r.Body)
	}
	if acl, _ := json.Marshal(servertest.DecodeSegment(t, minted, 1)["acl"]); string(acl) != wantACL {
		t.Errorf("the minted token's acl is %s", acl)
	}
	m.expect(m.goTo("the user again", chromedp.Navigate(s.URL+"/console/users/"+id)), 200)
	if strings.Contains(m.eval("document.documentElement.outerHTML"), minted) {
		t.Error("the user's page shows the token again")
	}

	c.expect(c.goTo("the user", chromedp.Navigate(s.URL+"/console/users/"+id)), 200)
	c.expect(c.goTo("ask to delete", chromedp.Click(chromedp.CSS(`a[href$="/delete"]`))), 200, "cannot be undone")
	b.Screenshot(t, "console-user-delete-confirm")
	if r := s.Do(http.MethodGet, "/v1/admin/users/"+id, "", nil, "Authorization", admin); r.Status != http.StatusOK {
		t.Fatalf("asking to confirm deleted the user: %d", r.Status)
	}
	c.expect(c.goTo("delete", chromedp.Click(chromedp.CSS(`form[action$="/delete"] button`))), 200, "The user is deleted")
	if got := c.eval("location.pathname"); got != "/console/users" {
		t.Errorf("deleting led to %s", got)
	}
	b.Screenshot(t, "console-user-deleted")
	if r := s.Do(http.MethodGet, "/v1/admin/users/"+id, "", nil, "Authorization", admin); r.Status != http.StatusNotFound {
		t.Errorf("the deleted user: %d %s", r.Status, r.Body)
	}

	for event, want := range map[string]string{"user_policy_changed": "client:" + adminID, "user_token_issued": "client:" + minterID, "user_deleted": "client:" + adminID} {
		if got := s.actorOf(event, id); strings.Join(got, ",") != want {
			t.Errorf("%s acted by %q, want %s", event, got, want)
		}
	}
	for _, p := range append(b.Problems(), m.b.Problems()...) {
		if !strings.Contains(p, "status of 403 (Forbidden)") {
			t.Errorf("a console page logged %s", p)
		}
	}
}
