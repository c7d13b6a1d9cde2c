package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

func TestAdminCreatesAndListsUsers(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	create := func(name string) {
		r := s.PostJSON("/v1/admin/users", map[string]string{"username": name, "password": "correct horse battery"}, "Authorization", admin)
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
		r := s.Do(http.MethodGet, path, "", nil, "Authorization", admin)
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
	// Newest first lists the same users in reverse.
	walk := func(order string) (names []string) {
		for path := "/v1/admin/users?page_size=9&order=" + order; path != ""; {
			r := s.Do(http.MethodGet, path, "", nil, "Authorization", admin)
			if r.Status != http.StatusOK {
				t.Fatalf("list %s: %d %s", order, r.Status, r.Body)
			}
			body := r.JSON(t)
			for _, u := range body["users"].([]any) {
				names = append(names, u.(map[string]any)["username"].(string))
			}
			path = ""
			if next, ok := body["next_cursor"].(string); ok {
				path = "/v1/admin/users?page_size=9&order=" + order + "&cursor=" + url.QueryEscape(next)
			}
		}
		return names
	}
	up, down := walk("asc"), walk("desc")
	slices.Reverse(down)
	if len(up) != 300 || !slices.Equal(up, down) {
		t.Errorf("%d users oldest first and %d newest first, of 300; the same in reverse: %v", len(up), len(down), slices.Equal(up, down))
	}

	// Filters and bad parameters.
	r := s.Do(http.MethodGet, "/v1/admin/users?username=LATE-&page_size=100&order=desc", "", nil, "Authorization", admin)
	if got := len(r.JSON(t)["users"].([]any)); r.Status != http.StatusOK || got != 50 {
		t.Fatalf("prefix filter: %d users, %d %s", got, r.Status, r.Body[:min(len(r.Body), 200)])
	}
	for _, q := range []string{"page_size=0", "page_size=101", "order=sideways", "disabled=maybe", "created_after=yesterday", "cursor=garbage", "provisioning=lost"} {
		r := s.Do(http.MethodGet, "/v1/admin/users?"+q, "", nil, "Authorization", admin)
		name := strings.SplitN(q, "=", 2)[0]
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"name":"`+name+`"`) {
			t.Errorf("%s: %d %s", q, r.Status, r.Body)
		}
	}
}

func TestImportWithBcryptHashRehashesOnLogin(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
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
	r := s.Do(http.MethodPost, "/v1/admin/users/import", "application/x-ndjson", strings.NewReader(body), "Authorization", admin)
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
	// A user reaches Vonage a moment before its job commits: wait for both.
	testkit.WaitFor(t, 10*time.Second, "the imported users at Vonage and the outbox to empty", func() bool {
		return len(s.Em.Users(s.AppID)) == 2 && s.Count("provisioning_jobs") == 0
	})
	login := s.PostForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"imported-user"}, "password": {"an imported password"}})
	if login.Status != http.StatusOK {
		t.Fatalf("login with the imported bcrypt password: %d %s", login.Status, login.Body)
	}
	stored := s.User("imported-user").PasswordHash
	if !strings.HasPrefix(stored, "$argon2id$") {
		t.Fatalf("the bcrypt hash was not replaced: %.10s…", stored)
	}
	if again := s.PostForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"imported-user"}, "password": {"an imported password"}}); again.Status != http.StatusOK {
		t.Fatalf("login after rehash: %d %s", again.Status, again.Body)
	}
}

func TestAdminMintsUserTokensForBackends(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	admin := s.AdminAuth("admin")
	created := s.PostJSON("/v1/admin/users", map[string]string{"username": "new-user", "password": "correct horse battery"}, "Authorization", admin).JSON(t)
	id := created["id"].(string)
	if r := s.Do(http.MethodGet, "/v1/admin/users/"+id, "", nil, "Authorization", admin); r.Status != http.StatusOK || r.JSON(t)["username"] != "new-user" {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	if r := s.Do(http.MethodGet, "/v1/admin/users/not-a-uuid", "", nil, "Authorization", admin); r.Status != http.StatusNotFound {
		t.Fatalf("get unknown: %d %s", r.Status, r.Body)
	}
	tokens := s.AdminAuth("tokens:user")
	r := s.PostJSON("/v1/admin/users/"+id+"/token", `{"ttl":600}`, "Authorization", tokens)
	if r.Status != http.StatusOK {
		t.Fatalf("token for a user: %d %s", r.Status, r.Body)
	}
	tok := r.JSON(t)["access_token"].(string)
	if c := servertest.DecodeSegment(t, tok, 1); c["sub"] != "new-user" || c["exp"].(float64)-c["iat"].(float64) != 600 {
		t.Fatalf("claims %v", c)
	}
	if e := s.EmulatorDo(http.MethodGet, "/v1/users", tok); e.Status != http.StatusOK {
		t.Fatalf("emulator: %d %s", e.Status, e.Body)
	}
	if r := s.PostJSON("/v1/admin/users/"+id+"/token", `{}`, "Authorization", admin); r.Status != http.StatusForbidden {
		t.Fatalf("admin scope alone minted a user token: %d", r.Status)
	}
}

func TestAdminRevokesDisablesAndDeletesUsers(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_REFRESH_GRACE": "0s"})
	admin := s.AdminAuth("admin")
	body := s.Signup("new-user", "correct horse battery")
	id := body["user"].(map[string]any)["id"].(string)
	refresh := body["refresh_token"].(string)

	// Revoking every session makes the refresh token fail.
	r := s.Do(http.MethodDelete, "/v1/admin/users/"+id+"/sessions", "", nil, "Authorization", admin)
	if r.Status != http.StatusOK || r.JSON(t)["revoked"] != float64(1) {
		t.Fatalf("revoke sessions: %d %s", r.Status, r.Body)
	}
	if r := s.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); r.Status != http.StatusBadRequest || r.JSON(t)["error"] != "invalid_grant" {
		t.Fatalf("refresh after revoke: %d %s", r.Status, r.Body)
	}

	// A disabled user's login answers exactly as a wrong password does.
	patched := s.Do(http.MethodPatch, "/v1/admin/users/"+id, "application/json", strings.NewReader(`{"disabled":true,"display_name":"Renamed By An Admin"}`), "Authorization", admin)
	if patched.Status != http.StatusOK || patched.JSON(t)["display_name"] != "Renamed By An Admin" {
		t.Fatalf("patch: %d %s", patched.Status, patched.Body)
	}
	disabled := s.PostForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"correct horse battery"}})
	wrong := s.PostForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"not the password"}})
	if disabled.Status != http.StatusBadRequest || disabled.JSON(t)["error"] != "invalid_grant" || servertest.WithoutRequestID(t, disabled) != servertest.WithoutRequestID(t, wrong) {
		t.Fatalf("disabled login: %d %s\nwrong password: %s", disabled.Status, disabled.Body, wrong.Body)
	}
	if r := s.Do(http.MethodPatch, "/v1/admin/users/"+id, "application/json", strings.NewReader(`{"policy":"no-such-policy","display_name":"Not Written"}`), "Authorization", admin); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"name":"policy"`) {
		t.Fatalf("unknown policy: %d %s", r.Status, r.Body)
	}
	if got := s.Do(http.MethodGet, "/v1/admin/users/"+id, "", nil, "Authorization", admin).JSON(t); got["display_name"] != "Renamed By An Admin" {
		t.Fatalf("a refused patch wrote: %v", got)
	}
	if r := s.Do(http.MethodPatch, "/v1/admin/users/"+id, "application/json", strings.NewReader(`{"disabled":false}`), "Authorization", admin); r.Status != http.StatusOK {
		t.Fatalf("enable: %d %s", r.Status, r.Body)
	}
	if r := s.PostForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"correct horse battery"}}); r.Status != http.StatusOK {
		t.Fatalf("login after re-enabling: %d %s", r.Status, r.Body)
	}

	// Deleting removes the user here and, through the outbox, at Vonage.
	if r := s.Do(http.MethodDelete, "/v1/admin/users/"+id, "", nil, "Authorization", admin); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := s.Do(http.MethodGet, "/v1/admin/users/"+id, "", nil, "Authorization", admin); r.Status != http.StatusNotFound {
		t.Fatalf("get after delete: %d", r.Status)
	}
	testkit.WaitFor(t, 10*time.Second, "the Vonage user to be deleted", func() bool { return len(s.Em.Users(s.AppID)) == 0 })

	// Every admin action is in the audit log with the acting client.
	var events []string
	cli := 0
	for _, e := range s.Audit("") {
		if strings.HasPrefix(e.Actor, "client:") {
			events = append(events, e.Event)
		}
		if e.Actor == "cli" && e.Event == "client_created" {
			cli++
		}
	}
	want := []string{"logout", "profile_updated", "user_updated", "user_updated", "user_deleted"}
	if strings.Join(events, ",") != strings.Join(want, ",") {
		t.Fatalf("admin audit events %v, want %v", events, want)
	}
	if cli != 1 {
		t.Fatalf("client creation by the CLI is audited %d times, want once", cli)
	}
}

func TestFailedClientAuthenticationIsThrottled(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	id, secret := s.NewClient("admin")
	var last response
	for range 30 {
		last = s.Do(http.MethodGet, "/v1/admin/clients", "", nil, "Authorization", servertest.Basic(id, "not-the-secret"))
		if last.Status == http.StatusTooManyRequests {
			break
		}
	}
	if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" || last.JSON(t)["code"] != "rate_limited" {
		t.Fatalf("30 bad secrets: %d %s", last.Status, last.Body)
	}
	// The valid secret is never throttled.
	if r := s.Do(http.MethodGet, "/v1/admin/clients", "", nil, "Authorization", servertest.Basic(id, secret)); r.Status != http.StatusOK {
		t.Fatalf("valid secret while failures are delayed: %d %s", r.Status, r.Body)
	}
}

// TestRefreshUnderAStoredPolicyDoesNotExhaustThePool guards against reading
// the policy on a second connection while the refresh transaction holds
// one: with a small pool, concurrent refreshes then wait on each other
// forever.
func TestRefreshUnderAStoredPolicyDoesNotExhaustThePool(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"DATABASE_URL": dbtest.NewURL(t) + "&pool_max_conns=2"})
	admin := s.AdminAuth("admin")
	put := s.Do(http.MethodPut, "/v1/admin/policies/agent", "application/json",
		strings.NewReader(`{"acl":{"paths":{"/*/conversations/**":{}}},"max_ttl":3600}`), "Authorization", admin)
	if put.Status != http.StatusCreated && put.Status != http.StatusOK {
		t.Fatalf("put policy: %d %s", put.Status, put.Body)
	}
	if r := s.PostJSON("/v1/admin/users", map[string]string{"username": "new-user", "password": "correct horse battery", "policy": "agent"}, "Authorization", admin); r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var tokens []string
	for range 6 {
		r := s.PostForm("/v1/token", url.Values{"grant_type": {"password"}, "username": {"new-user"}, "password": {"correct horse battery"}})
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
