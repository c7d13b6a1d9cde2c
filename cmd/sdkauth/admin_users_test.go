package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sdkauth/sdkauth/db/dbtest"
)

// adminAuth returns the Authorization header of a new client with scopes.
func (s *stack) adminAuth(scopes string) string {
	s.t.Helper()
	id, secret := s.newClient(scopes)
	return basic(id, secret)
}

func TestAdminCreatesAndListsUsers(t *testing.T) {
	s := newStack(t, nil)
	admin := s.adminAuth("admin")
	create := func(name string) {
		r := s.postJSON("/v1/admin/users", map[string]string{"username": name, "password": "correct horse battery"}, "Authorization", admin)
		if r.Status != http.StatusCreated {
			t.Errorf("create %s: %d %s", name, r.Status, r.Body)
		}
	}
	for i := range 250 {
		create(fmt.Sprintf("listed-user-%03d", i))
	}
	seen := map[string]int{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // 50 more arrive while the listing is followed
		defer wg.Done()
		for i := range 50 {
			create(fmt.Sprintf("late-user-%03d", i))
		}
	}()
	path := "/v1/admin/users?page_size=7"
	for pages := 0; path != ""; pages++ {
		if pages > 100 {
			t.Fatal("the listing does not end")
		}
		r := s.do(http.MethodGet, path, "", nil, "Authorization", admin)
		if r.Status != http.StatusOK {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		body := r.JSON(t)
		for _, u := range body["users"].([]any) {
			seen[u.(map[string]any)["username"].(string)]++
		}
		path = ""
		if next, ok := body["next_cursor"].(string); ok {
			path = "/v1/admin/users?page_size=7&cursor=" + url.QueryEscape(next)
			if link := r.Header.Get("Link"); !strings.Contains(link, `rel="next"`) {
				t.Fatalf("no Link header: %q", link)
			}
		}
	}
	wg.Wait()
	for i := range 250 {
		if n := seen[fmt.Sprintf("listed-user-%03d", i)]; n != 1 {
			t.Errorf("listed-user-%03d listed %d times", i, n)
		}
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", name, n)
		}
	}

	// Filters and bad parameters.
	r := s.do(http.MethodGet, "/v1/admin/users?username=LATE-&page_size=100&order=desc", "", nil, "Authorization", admin)
	if got := len(r.JSON(t)["users"].([]any)); r.Status != http.StatusOK || got != 50 {
		t.Fatalf("prefix filter: %d users, %d %s", got, r.Status, r.Body[:min(len(r.Body), 200)])
	}
	for _, q := range []string{"page_size=0", "page_size=101", "order=sideways", "disabled=maybe", "created_after=yesterday", "cursor=garbage", "provisioning=lost"} {
		r := s.do(http.MethodGet, "/v1/admin/users?"+q, "", nil, "Authorization", admin)
		name := strings.SplitN(q, "=", 2)[0]
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"name":"`+name+`"`) {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
}

func TestImportWithBcryptHashRehashesOnLogin(t *testing.T) {
	s := newStack(t, nil)
	admin := s.adminAuth("admin")
	hash, err := bcrypt.GenerateFromPassword([]byte("an imported password"), 10)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Join([]string{
		`{"username":"imported-user","password_hash":"` + string(hash) + `","display_name":"An Imported User"}`,
		`{"username": "broken-line"`,
		`{"username":"hashed-badly","password_hash":"$2b$10$tooshort"}`,
		`{"username":"plain-import","password":"correct horse battery"}`,
		`{"username":"imported-user","password":"another password here"}`,
	}, "\n")
	r := s.do(http.MethodPost, "/v1/admin/users/import", "application/x-ndjson", strings.NewReader(body), "Authorization", admin)
	if r.Status != http.StatusOK {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	got := r.JSON(t)
	if got["created"] != float64(2) || got["existing"] != float64(0) || got["failed"] != float64(3) {
		t.Fatalf("import counts: %s", r.Body)
	}
	results := got["results"].([]any)
	wantStatus := []string{"created", "failed", "failed", "created", "failed"}
	for i, res := range results {
		if st := res.(map[string]any)["status"]; st != wantStatus[i] {
			t.Errorf("line %d: %v, want %s", i+1, res, wantStatus[i])
		}
	}
	if e := results[2].(map[string]any)["error"].(map[string]any); !strings.Contains(fmt.Sprint(e["invalid_parameters"]), "password_hash") {
		t.Errorf("bad hash line does not name password_hash: %v", e)
	}

	// Imported users are provisioned by the background worker.
	waitFor(t, 10*time.Second, "the imported users at Vonage", func() bool { return len(s.Em.Users(s.AppID)) == 2 })
	login := s.postForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"imported-user"}, "password": {"an imported password"}})
	if login.Status != http.StatusOK {
		t.Fatalf("login with the imported bcrypt password: %d %s", login.Status, login.Body)
	}
	var stored string
	if err := s.App.Pool.QueryRow(context.Background(), "SELECT password_hash FROM users WHERE username = 'imported-user'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "$argon2id$") {
		t.Fatalf("the bcrypt hash was not replaced: %.10s…", stored)
	}
	if again := s.postForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"imported-user"}, "password": {"an imported password"}}); again.Status != http.StatusOK {
		t.Fatalf("login after rehash: %d %s", again.Status, again.Body)
	}
}

func TestAdminMintsUserTokensForBackends(t *testing.T) {
	s := newStack(t, nil)
	admin := s.adminAuth("admin")
	created := s.postJSON("/v1/admin/users", map[string]string{"username": "new-user", "password": "correct horse battery"}, "Authorization", admin).JSON(t)
	id := created["id"].(string)
	if r := s.do(http.MethodGet, "/v1/admin/users/"+id, "", nil, "Authorization", admin); r.Status != http.StatusOK || r.JSON(t)["username"] != "new-user" {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	if r := s.do(http.MethodGet, "/v1/admin/users/not-a-uuid", "", nil, "Authorization", admin); r.Status != http.StatusNotFound {
		t.Fatalf("get unknown: %d %s", r.Status, r.Body)
	}
	tokens := s.adminAuth("tokens:user")
	r := s.postJSON("/v1/admin/users/"+id+"/token", `{"ttl":600}`, "Authorization", tokens)
	if r.Status != http.StatusOK {
		t.Fatalf("token for a user: %d %s", r.Status, r.Body)
	}
	tok := r.JSON(t)["access_token"].(string)
	if c := decodeSegment(t, tok, 1); c["sub"] != "new-user" || c["exp"].(float64)-c["iat"].(float64) != 600 {
		t.Fatalf("claims %v", c)
	}
	if e := s.emulatorDo(http.MethodGet, "/v1/users", tok); e.Status != http.StatusOK {
		t.Fatalf("emulator: %d %s", e.Status, e.Body)
	}
	if r := s.postJSON("/v1/admin/users/"+id+"/token", `{}`, "Authorization", admin); r.Status != http.StatusForbidden {
		t.Fatalf("admin scope alone minted a user token: %d", r.Status)
	}
}

func TestAdminRevokesDisablesAndDeletesUsers(t *testing.T) {
	s := newStack(t, map[string]string{"SDKAUTH_REFRESH_GRACE": "0s"})
	admin := s.adminAuth("admin")
	body := s.signup("new-user", "correct horse battery")
	id := body["user"].(map[string]any)["id"].(string)
	refresh := body["refresh_token"].(string)

	// Revoking every session makes the refresh token fail.
	r := s.do(http.MethodDelete, "/v1/admin/users/"+id+"/sessions", "", nil, "Authorization", admin)
	if r.Status != http.StatusOK || r.JSON(t)["revoked"] != float64(1) {
		t.Fatalf("revoke sessions: %d %s", r.Status, r.Body)
	}
	if r := s.postForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_grant" {
		t.Fatalf("refresh after revoke: %d %s", r.Status, r.Body)
	}

	// A disabled user's login answers exactly as a wrong password does.
	patched := s.do(http.MethodPatch, "/v1/admin/users/"+id, "application/json", strings.NewReader(`{"disabled":true,"display_name":"Renamed By An Admin"}`), "Authorization", admin)
	if patched.Status != http.StatusOK || patched.JSON(t)["display_name"] != "Renamed By An Admin" {
		t.Fatalf("patch: %d %s", patched.Status, patched.Body)
	}
	disabled := s.postForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"correct horse battery"}})
	wrong := s.postForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"not the password"}})
	if disabled.Status != http.StatusBadRequest || disabled.JSON(t)["error"] != "invalid_grant" || withoutRequestID(t, disabled) != withoutRequestID(t, wrong) {
		t.Fatalf("disabled login: %d %s\nwrong password: %s", disabled.Status, disabled.Body, wrong.Body)
	}
	if r := s.do(http.MethodPatch, "/v1/admin/users/"+id, "application/json", strings.NewReader(`{"policy":"no-such-policy","display_name":"Not Written"}`), "Authorization", admin); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"name":"policy"`) {
		t.Fatalf("unknown policy: %d %s", r.Status, r.Body)
	}
	if got := s.do(http.MethodGet, "/v1/admin/users/"+id, "", nil, "Authorization", admin).JSON(t); got["display_name"] != "Renamed By An Admin" {
		t.Fatalf("a refused patch wrote: %v", got)
	}
	if r := s.do(http.MethodPatch, "/v1/admin/users/"+id, "application/json", strings.NewReader(`{"disabled":false}`), "Authorization", admin); r.Status != http.StatusOK {
		t.Fatalf("enable: %d %s", r.Status, r.Body)
	}
	if r := s.postForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"correct horse battery"}}); r.Status != http.StatusOK {
		t.Fatalf("login after re-enabling: %d %s", r.Status, r.Body)
	}

	// Deleting removes the user here and, through the outbox, at Vonage.
	if r := s.do(http.MethodDelete, "/v1/admin/users/"+id, "", nil, "Authorization", admin); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := s.do(http.MethodGet, "/v1/admin/users/"+id, "", nil, "Authorization", admin); r.Status != http.StatusNotFound {
		t.Fatalf("get after delete: %d", r.Status)
	}
	waitFor(t, 10*time.Second, "the Vonage user to be deleted", func() bool { return len(s.Em.Users(s.AppID)) == 0 })

	// Every admin action is in the audit log with the acting client.
	rows, err := s.App.Pool.Query(context.Background(), "SELECT event, actor FROM audit_log WHERE actor LIKE 'client:%' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for rows.Next() {
		var ev, actor string
		if err := rows.Scan(&ev, &actor); err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	want := []string{"logout", "profile_updated", "user_updated", "user_updated", "user_deleted"}
	if strings.Join(events, ",") != strings.Join(want, ",") {
		t.Fatalf("admin audit events %v, want %v", events, want)
	}
	var cli int
	if err := s.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_log WHERE actor = 'cli' AND event = 'client_created'").Scan(&cli); err != nil || cli != 1 {
		t.Fatalf("client creation by the CLI is not audited: %d %v", cli, err)
	}
}

func TestFailedClientAuthenticationIsThrottled(t *testing.T) {
	s := newStack(t, nil)
	id, secret := s.newClient("admin")
	var last response
	for range 30 {
		last = s.do(http.MethodGet, "/v1/admin/clients", "", nil, "Authorization", basic(id, "not-the-secret"))
		if last.Status == http.StatusTooManyRequests {
			break
		}
	}
	if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" || last.JSON(t)["code"] != "rate_limited" {
		t.Fatalf("30 bad secrets: %d %s", last.Status, last.Body)
	}
	// The valid secret is never throttled.
	if r := s.do(http.MethodGet, "/v1/admin/clients", "", nil, "Authorization", basic(id, secret)); r.Status != http.StatusOK {
		t.Fatalf("valid secret while failures are delayed: %d %s", r.Status, r.Body)
	}
}

// TestRefreshUnderAStoredPolicyDoesNotExhaustThePool guards against reading
// the policy on a second connection while the refresh transaction holds
// one: with a small pool, concurrent refreshes then wait on each other
// forever.
func TestRefreshUnderAStoredPolicyDoesNotExhaustThePool(t *testing.T) {
	s := newStack(t, map[string]string{"DATABASE_URL": dbtest.NewURL(t) + "&pool_max_conns=2"})
	admin := s.adminAuth("admin")
	put := s.do(http.MethodPut, "/v1/admin/policies/agent", "application/json",
		strings.NewReader(`{"acl":{"paths":{"/*/conversations/**":{}}},"max_ttl":3600}`), "Authorization", admin)
	if put.Status != http.StatusCreated && put.Status != http.StatusOK {
		t.Fatalf("put policy: %d %s", put.Status, put.Body)
	}
	if r := s.postJSON("/v1/admin/users", map[string]string{"username": "new-user", "password": "correct horse battery", "policy": "agent"}, "Authorization", admin); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var tokens []string
	for range 6 {
		r := s.postForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"correct horse battery"}})
		if r.Status != http.StatusOK {
			t.Fatalf("login: %d %s", r.Status, r.Body)
		}
		tokens = append(tokens, r.JSON(t)["refresh_token"].(string))
	}
	client := &http.Client{Timeout: 20 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan string, len(tokens))
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.PostForm(s.URL+"/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}})
			if err != nil {
				errs <- err.Error()
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				errs <- res.Status
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error("concurrent refresh:", e)
	}
}
