package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/users"
)

// metric returns the value of an unlabelled metric on /metrics.
func (s *stack) metric(name string) string {
	s.T.Helper()
	r := s.Do(http.MethodGet, "/metrics", "", nil)
	for _, line := range strings.Split(string(r.Body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	s.T.Fatalf("no %s in /metrics", name)
	return ""
}

func TestAPermanentRefusalFailsTheJobAndAnAdminRetriesIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, nil)
	clientID, secret := s.NewClient("admin")
	admin := servertest.Basic(clientID, secret)
	s.SetFaults(`{"path": "/v1/users", "method": "POST", "status": 400}`)
	ids := map[string]string{}
	for _, name := range []string{"new-user-a", "new-user-b", "new-user-c"} {
		r := s.PostJSON("/v1/signup", map[string]string{"username": name, "password": servertest.GoodPassword})
		if r.Status != http.StatusAccepted || r.JSON(t)["user"].(map[string]any)["provisioning"] != users.StateFailed {
			t.Fatalf("sign-up refused for good at Vonage: %d %s", r.Status, r.Body)
		}
		ids[name] = servertest.UserID(r.JSON(t))
	}

	// Each job ended after its one attempt, and no worker takes it again.
	failed := s.FailedJobs(admin)
	if len(failed) != 3 {
		t.Fatalf("%d failed jobs, want 3", len(failed))
	}
	for _, j := range failed {
		if j["attempts"] != 1.0 || j["kind"] != "create" || j["user_id"] != ids[j["username"].(string)] ||
			!strings.Contains(j["last_error"].(string), "400") || j["failed_at"] == nil || j["run_at"] != nil {
			t.Fatalf("failed job %v", j)
		}
	}
	if n, err := s.App.Accounts.Worker.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("a worker claimed %d jobs (%v)", n, err)
	}
	if got := s.Em.Stats()["POST /v1/users 400"]; got != 3 {
		t.Fatalf("%d creates refused, want one per user", got)
	}

	// The users show it and get no token; the gauge counts the jobs.
	if u := s.AdminUser(admin, ids["new-user-a"]); u["provisioning"] != users.StateFailed {
		t.Fatalf("user %v", u)
	}
	if r := s.Do(http.MethodGet, "/v1/admin/users?provisioning=failed", "", nil, "Authorization", admin); len(r.JSON(t)["users"].([]any)) != 3 {
		t.Fatalf("users with failed provisioning: %s", r.Body)
	}
	if r := s.Login("new-user-a", servertest.GoodPassword); r.Status != http.StatusServiceUnavailable || r.JSON(t)["code"] != "provisioning_pending" {
		t.Fatalf("login of a user whose provisioning failed: %d %s", r.Status, r.Body)
	}
	if got := s.metric("sdkauth_provisioning_failed_jobs"); got != "3" {
		t.Fatalf("sdkauth_provisioning_failed_jobs %s, want 3", got)
	}
	if got := s.metric("sdkauth_provisioning_queue_depth"); got != "0" {
		t.Fatalf("sdkauth_provisioning_queue_depth %s: failed jobs are not waiting", got)
	}

	// The listing pages with a cursor, and names bad input.
	r := s.JobsPage(admin, "?state=failed&page_size=2")
	first := r.JSON(t)
	cursor, _ := first["next_cursor"].(string)
	if len(first["jobs"].([]any)) != 2 || cursor == "" || !strings.Contains(r.Header.Get("Link"), `rel="next"`) {
		t.Fatalf("first page %d %s", r.Status, r.Body)
	}
	last := s.JobsPage(admin, "?state=failed&page_size=2&cursor="+url.QueryEscape(cursor)).JSON(t)
	if len(last["jobs"].([]any)) != 1 || last["next_cursor"] != nil {
		t.Fatalf("last page %v", last)
	}
	for query, field := range map[string]string{
		"?state=done":                        "state",
		"?page_size=0":                       "page_size",
		"?cursor=not-a-cursor":               "cursor",
		"?cursor=" + url.QueryEscape(cursor): "cursor", // made under state=failed
		"?state=pending&cursor=" + url.QueryEscape(cursor): "cursor",
	} {
		r := s.JobsPage(admin, query)
		if code, name := firstInvalid(t, r); r.Status != http.StatusBadRequest || code != "validation_failed" || name != field {
			t.Errorf("%s: %d %s", query, r.Status, r.Body)
		}
	}
	if r := s.JobsPage("", "?state=failed"); r.Status != http.StatusUnauthorized {
		t.Fatalf("listing without credentials: %d", r.Status)
	}

	// Once Vonage accepts them, a retry provisions each user.
	s.ClearFaults()
	for _, j := range failed {
		path := fmt.Sprintf("/v1/admin/provisioning/jobs/%d/retry", int64(j["id"].(float64)))
		r := s.Do(http.MethodPost, path, "", nil, "Authorization", admin)
		if got := r.JSON(t); r.Status != http.StatusOK || got["state"] != "pending" || got["attempts"] != 0.0 || got["run_at"] == nil {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
	}
	for name, id := range ids {
		testkit.WaitFor(t, 10*time.Second, name+" to be provisioned", func() bool {
			return s.AdminUser(admin, id)["provisioning"] == users.StateProvisioned
		})
	}
	if got := s.metric("sdkauth_provisioning_failed_jobs"); got != "0" {
		t.Fatalf("sdkauth_provisioning_failed_jobs %s after the retries", got)
	}
	if created := s.Em.Stats()["POST /v1/users 201"]; created != 3 {
		t.Fatalf("%d users created at Vonage, want 3", created)
	}
	s.MustLogin("new-user-a", servertest.GoodPassword)
	for _, path := range []string{"/v1/admin/provisioning/jobs/999999/retry", "/v1/admin/provisioning/jobs/not-a-job/retry"} {
		if r := s.Do(http.MethodPost, path, "", nil, "Authorization", admin); r.Status != http.StatusNotFound {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	retried := 0
	for _, e := range s.Audit("provisioning_job_retried") {
		if e.Actor == "client:"+clientID {
			retried++
		}
	}
	if retried != 3 {
		t.Fatalf("%d retries audit-logged with the acting client, want 3", retried)
	}
}

// TestARetryAfterHoldOnOneReplicaHoldsTheOther: Vonage answers one replica
// 429 with Retry-After; the other, on the same database, then makes no call
// to Vonage until the hold has passed.
func TestARetryAfterHoldOnOneReplicaHoldsTheOther(t *testing.T) {
	t.Parallel()
	a := newStack(t, map[string]string{"SDKAUTH_LOGIN_RATE_PER_IP": "0"})
	b := &stack{a.Replica()}
	a.SetFaults(`{"path": "/v1/users", "method": "POST", "status": 429, "retry_after": 5, "count": 1}`)
	for _, rep := range []struct {
		s    *stack
		name string
	}{{a, "new-user-a"}, {b, "new-user-b"}} {
		r := rep.s.PostJSON("/v1/signup", map[string]string{"username": rep.name, "password": servertest.GoodPassword})
		if r.Status != http.StatusAccepted {
			t.Fatalf("sign-up of %s: %d %s", rep.name, r.Status, r.Body)
		}
	}
	// The 429 fired once; without the shared hold the second replica would
	// have created its user at once.
	creates := a.EmLog.Requests(http.MethodPost, "/v1/users")
	if len(creates) != 1 || creates[0].Status != http.StatusTooManyRequests {
		t.Fatalf("creates before the hold passed: %+v", creates)
	}
	limited := creates[0]
	testkit.WaitFor(t, 30*time.Second, "both users to reach Vonage", func() bool { return len(a.Em.Users(a.AppID)) == 2 })
	for _, r := range a.EmLog.Requests(http.MethodPost, "/v1/users")[1:] {
		if gap := r.Arrived.Sub(limited.Answered); gap < 5*time.Second {
			t.Errorf("%s was created %s after a 429 with Retry-After: 5", r.Name, gap)
		}
	}
}
