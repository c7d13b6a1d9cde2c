package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sdkauth/sdkauth/internal/browsertest"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/users"
)

// setField replaces the value of the form field with id, as typing over
// it would.
func (c *consoleTab) setField(id, value string) {
	c.t.Helper()
	c.eval(`document.getElementById(` + jsString(id) + `).value = ` + jsString(value) + `, ""`)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// signedInConsole opens the console in a new Chromium and signs in with
// the admin client id and secret.
func signedInConsole(t *testing.T, s *stack, id, secret string) *consoleTab {
	t.Helper()
	b := browsertest.New(t)
	ctx, cancel := context.WithTimeout(b.Ctx, 3*time.Minute)
	t.Cleanup(cancel)
	c := &consoleTab{t: t, s: s, b: b, ctx: ctx}
	c.goTo("open the console", chromedp.Navigate(s.URL+"/console/sign-in"))
	c.expect(c.signIn(id, secret), 200)
	return c
}

// TestConsolePoliciesAndAuditInChromium creates a policy in the console,
// edits it with an ACL the domain refuses (the reason is shown on the field
// and nothing changes), then with a valid one; deleting it is refused while
// a user is on it and done once none is; and the audit page shows each
// action with the acting client.
func TestConsolePoliciesAndAuditInChromium(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	adminID, adminSecret := s.NewClient("admin")
	admin := servertest.Basic(adminID, adminSecret)
	userID := servertest.UserID(s.Signup("new-user", "correct horse battery"))

	c := signedInConsole(t, s, adminID, adminSecret)
	b := c.b

	c.expect(c.goTo("policies", chromedp.Navigate(s.URL+"/console/policies")), 200, "client-sdk", "built in", "Create a policy")
	c.setField("name", "read-only")
	c.setField("acl", `{"paths": {"/*/users/**": {}}}`)
	c.setField("max_ttl", "3600")
	c.expect(c.goTo("create a policy", chromedp.Click(chromedp.CSS(`form[action="/console/policies"] button`))), 200, "The policy is saved")
	if got := c.eval("location.pathname"); got != "/console/policies/read-only" {
		t.Fatalf("creating led to %s", got)
	}

	// A method Vonage does not know is refused on the ACL field, naming
	// where in the ACL it is, and the stored policy is unchanged.
	c.setField("acl", `{"paths": {"/*/users/**": {"methods": ["FETCH"]}}}`)
	c.setField("max_ttl", "10")
	c.expect(c.goTo("an invalid edit", chromedp.Click(chromedp.CSS(`form[action="/console/policies/read-only"] button`))), 400, "correct the fields marked below")
	if got := c.eval(`document.getElementById("acl-error").innerText`); !strings.Contains(got, `acl.paths./*/users/**.methods[0]: "FETCH" is not one of GET, POST, PUT, PATCH, DELETE`) {
		t.Errorf("the ACL field's error: %q", got)
	}
	if got := c.eval(`document.getElementById("max_ttl-error").innerText`); !strings.Contains(got, "must be between 30 and 86400 seconds") {
		t.Errorf("the max_ttl field's error: %q", got)
	}
	if got := c.eval(`document.getElementById("acl").getAttribute("aria-invalid") + " " + document.getElementById("acl").value`); !strings.Contains(got, `true {"paths": {"/*/users/**": {"methods": ["FETCH"]}}}`) {
		t.Errorf("the refused ACL is not kept and marked: %q", got)
	}
	b.Screenshot(t, "console-policy-invalid")
	if r := s.Do(http.MethodGet, "/v1/admin/policies/read-only", "", nil, "Authorization", admin); !strings.Contains(string(r.Body), `"max_ttl":3600`) {
		t.Errorf("a refused edit changed the policy: %s", r.Body)
	}

	c.setField("acl", `{"paths": {"/*/users/**": {"methods": ["GET"]}, "/*/conversations/**": {"methods": ["GET"]}}}`)
	c.setField("max_ttl", "600")
	c.expect(c.goTo("a valid edit", chromedp.Click(chromedp.CSS(`form[action="/console/policies/read-only"] button`))), 200, "The policy is saved", "/*/conversations/**")
	b.Screenshot(t, "console-policy")
	if r := s.Do(http.MethodGet, "/v1/admin/policies/read-only", "", nil, "Authorization", admin); !strings.Contains(string(r.Body), `"max_ttl":600`) || !strings.Contains(string(r.Body), `"/*/conversations/**":{"methods":["GET"]}`) {
		t.Errorf("the edit is not stored: %s", r.Body)
	}

	// In use, the policy stays, and the page says why.
	setPolicy := func(name string) {
		if r := s.Do(http.MethodPatch, "/v1/admin/users/"+userID, "application/json", strings.NewReader(`{"policy":"`+name+`"}`), "Authorization", admin); r.Status != http.StatusOK {
			t.Fatalf("putting the user on %s: %d %s", name, r.Status, r.Body)
		}
	}
	setPolicy("read-only")
	c.expect(c.goTo("delete in use", chromedp.Click(chromedp.CSS(`form[action$="/delete"] button`))), 409, "Not deleted: Users are still on policy")
	b.Screenshot(t, "console-policy-in-use")
	setPolicy("client-sdk")
	c.expect(c.goTo("delete", chromedp.Click(chromedp.CSS(`form[action$="/delete"] button`))), 200, "The policy is deleted.")
	c.expect(c.goTo("policies again", chromedp.Navigate(s.URL+"/console/policies")), 200)
	b.Screenshot(t, "console-policies")
	if strings.Contains(c.text(), "read-only") {
		t.Error("the deleted policy is still listed")
	}

	var got []string
	for _, e := range s.Audit("") {
		if strings.HasPrefix(e.Event, "policy_") {
			got = append(got, e.Event+" "+e.Detail)
		}
	}
	want := "policy_changed policy=read-only max_ttl=3600\npolicy_changed policy=read-only max_ttl=600\npolicy_deleted policy=read-only"
	if strings.Join(got, "\n") != want {
		t.Errorf("the policy audit rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}

	// The audit page shows each of those actions with the acting client,
	// narrowed by event, actor, user and time.
	actor := "client:" + adminID
	c.expect(c.goTo("audit", chromedp.Navigate(s.URL+"/console/audit")), 200, "policy_deleted", "user_policy_changed", "console_signed_in")
	c.setField("event", "policy_changed")
	c.setField("actor", actor)
	c.expect(c.goTo("filter the audit log", chromedp.Click(chromedp.CSS(`form.filters button`))), 200)
	b.Screenshot(t, "console-audit")
	if got := c.eval(`[...document.querySelectorAll("tbody tr")].map(tr => [...tr.cells].slice(1, 5).map(td => td.innerText).join(" | ")).join("\n")`); got != "policy_changed | — | "+actor+" | policy=read-only max_ttl=600\npolicy_changed | — | "+actor+" | policy=read-only max_ttl=3600" {
		t.Errorf("the audit page filtered by event and actor shows:\n%s", got)
	}
	c.expect(c.goTo("filter by a user", chromedp.Navigate(s.URL+"/console/audit?user=new-user&event=user_policy_changed")), 200, "policy=read-only", "policy=client-sdk")
	if n := c.eval(`String(document.querySelectorAll("tbody tr").length)`); n != "2" {
		t.Errorf("the new user's policy changes: %s rows\n%s", n, c.text())
	}
	c.expect(c.goTo("follow an event link", chromedp.Click(chromedp.CSS(`tbody tr:first-child td:nth-child(2) a`))), 200)
	if got := c.eval("location.search"); got != "?event=user_policy_changed&user=new-user" {
		t.Errorf("an event link led to %s", got)
	}
	c.expect(c.goTo("before any of it", chromedp.Navigate(s.URL+"/console/audit?until=2001-01-01T00:00&actor="+actor)), 200, "No audit entries match.")
	c.expect(c.goTo("a bad time", chromedp.Navigate(s.URL+"/console/audit?since=yesterday")), 400, "Correct the filters marked below.")
	if got := c.eval(`document.getElementById("since-error").innerText`); !strings.Contains(got, "must be a date and time") {
		t.Errorf("the since field's error: %q", got)
	}

	for _, p := range b.Problems() {
		if !strings.Contains(p, "status of 400 (Bad Request)") && !strings.Contains(p, "status of 409 (Conflict)") {
			t.Errorf("a console page logged %s", p)
		}
	}
}

// TestConsoleProvisioningInChromium lists a job that Vonage refused for
// good with its error, retries it from the console once Vonage accepts
// it, and finds the retry in the audit log with the acting client.
func TestConsoleProvisioningInChromium(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	adminID, adminSecret := s.NewClient("admin")
	admin := servertest.Basic(adminID, adminSecret)
	s.SetFaults(`{"path": "/v1/users", "method": "POST", "status": 400}`)
	r := s.PostJSON("/v1/signup", map[string]string{"username": "new-user", "password": servertest.GoodPassword})
	if r.Status != http.StatusAccepted || r.JSON(t)["user"].(map[string]any)["provisioning"] != users.StateFailed {
		t.Fatalf("sign-up refused for good at Vonage: %d %s", r.Status, r.Body)
	}
	id := servertest.UserID(r.JSON(t))

	c := signedInConsole(t, s, adminID, adminSecret)
	b := c.b
	c.expect(c.goTo("provisioning", chromedp.Click(chromedp.CSS(`nav a[href="/console/provisioning"]`))), 200, "new-user", "create", "failed", "400", "Retry now")
	if rows := c.eval(`String(document.querySelectorAll("tbody tr").length)`); rows != "1" {
		t.Fatalf("%s failed jobs listed:\n%s", rows, c.text())
	}
	b.Screenshot(t, "console-provisioning-failed")

	s.ClearFaults()
	c.expect(c.goTo("retry", chromedp.Click(chromedp.CSS(`form[action$="/retry"] button`))), 200, "is due now")
	testkit.WaitFor(t, 10*time.Second, "the user to be provisioned", func() bool {
		return s.AdminUser(admin, id)["provisioning"] == users.StateProvisioned
	})
	c.expect(c.goTo("failed jobs", chromedp.Click(chromedp.CSS(`nav.tabs a[href$="state=failed"]`))), 200, "No failed jobs.")
	b.Screenshot(t, "console-provisioning-retried")
	s.MustLogin("new-user", servertest.GoodPassword)

	c.expect(c.goTo("audit", chromedp.Navigate(s.URL+"/console/audit?event=provisioning_job_retried")), 200, "new-user", "client:"+adminID, "kind=create")
	if rows := c.eval(`String(document.querySelectorAll("tbody tr").length)`); rows != "1" {
		t.Errorf("%s retries in the audit log:\n%s", rows, c.text())
	}
	b.Screenshot(t, "console-audit-retry")
	if p := b.Problems(); len(p) != 0 {
		t.Errorf("the console pages logged %q", p)
	}
}

// TestConsoleKeysInChromium shows the active key's thumbprint and age,
// states what a rotation does to clients, and rotates: tokens are signed
// with the new key, the old one is listed as previous, and the rotation is
// in the audit log with the acting client.
func TestConsoleKeysInChromium(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"VONAGE_API_KEY": "key", "VONAGE_API_SECRET": "secret"})
	adminID, adminSecret := s.NewClient("admin")
	oldKID := s.App.Keys.Ring.KeyID()

	c := signedInConsole(t, s, adminID, adminSecret)
	b := c.b
	c.expect(c.goTo("keys", chromedp.Click(chromedp.CSS(`nav a[href="/console/keys"]`))), 200, oldKID, "active", "under a minute", "stops working at Vonage at once", "refreshSession")
	b.Screenshot(t, "console-keys")

	c.expect(c.goTo("rotate", chromedp.Click(chromedp.CSS(`form[action="/console/keys/rotate"] button`))), 200, "The signing key is rotated")
	newKID := s.App.Keys.Ring.KeyID()
	if newKID == oldKID {
		t.Fatal("the console's rotation did not switch this replica's key")
	}
	rows := c.eval(`[...document.querySelectorAll("tbody tr")].map(tr => tr.cells[0].innerText + " " + tr.cells[1].innerText).join("\n")`)
	if rows != newKID+" active\n"+oldKID+" previous" {
		t.Errorf("after rotating, the keys page lists:\n%s", rows)
	}
	b.Screenshot(t, "console-keys-rotated")
	token := s.Signup("new-user", "correct horse battery")["access_token"].(string)
	if header := servertest.DecodeSegment(t, token, 0); header["kid"] != newKID {
		t.Errorf("a new token is signed by %v", header["kid"])
	}
	if r := s.EmulatorDo(http.MethodGet, "/v1/users", token); r.Status != http.StatusOK {
		t.Errorf("Vonage refuses a token signed with the new key: %d %s", r.Status, r.Body)
	}
	c.expect(c.goTo("audit", chromedp.Navigate(s.URL+"/console/audit?event=key_rotated")), 200, "client:"+adminID, "new_kid="+newKID, "old_kid="+oldKID)
	if p := b.Problems(); len(p) != 0 {
		t.Errorf("the console pages logged %q", p)
	}
}
