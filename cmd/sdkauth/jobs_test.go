package main

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

// jobsPage lists provisioning jobs through the admin API.
func (s *stack) jobsPage(admin, query string) response {
	s.T.Helper()
	return s.Do(http.MethodGet, "/v1/admin/provisioning/jobs"+query, "", nil, "Authorization", admin)
}

// failedJobs returns every failed job the admin API lists.
func (s *stack) failedJobs(admin string) []map[string]any {
	s.T.Helper()
	r := s.jobsPage(admin, "?state=failed&page_size=100")
	if r.Status != http.StatusOK {
		s.T.Fatalf("listing failed jobs: %d %s", r.Status, r.Body)
	}
	var out []map[string]any
	for _, j := range r.JSON(s.T)["jobs"].([]any) {
		out = append(out, j.(map[string]any))
	}
	return out
}

// adminUser reads a user through the admin API.
func (s *stack) adminUser(admin, id string) map[string]any {
	s.T.Helper()
	r := s.Do(http.MethodGet, "/v1/admin/users/"+id, "", nil, "Authorization", admin)
	if r.Status != http.StatusOK {
		s.T.Fatalf("admin get user: %d %s", r.Status, r.Body)
	}
	return r.JSON(s.T)
}

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
	clientID, secret := s.newClient("admin")
	admin := servertest.Basic(clientID, secret)
	s.setFaults(`{"path": "/v1/users", "method": "POST", "status": 400}`)
	ids := map[string]string{}
	for _, name := range []string{"new-user-a", "new-user-b", "new-user-c"} {
		r := s.PostJSON("/v1/signup", map[string]string{"username": name, "password": goodPassword})
		if r.Status != http.StatusAccepted || r.JSON(t)["user"].(map[string]any)["provisioning"] != users.StateFailed {
			t.Fatalf("sign-up refused for good at Vonage: %d %s", r.Status, r.Body)
		}
		ids[name] = userID(r.JSON(t))
	}

	// Each job ended after its one attempt, and no worker takes it again.
	failed := s.failedJobs(admin)
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
	if u := s.adminUser(admin, ids["new-user-a"]); u["provisioning"] != users.StateFailed {
		t.Fatalf("user %v", u)
	}
	if r := s.Do(http.MethodGet, "/v1/admin/users?provisioning=failed", "", nil, "Authorization", admin); len(r.JSON(t)["users"].([]any)) != 3 {
		t.Fatalf("users with failed provisioning: %s", r.Body)
	}
	if r := s.login("new-user-a", goodPassword); r.Status != http.StatusServiceUnavailable || r.JSON(t)["code"] != "provisioning_pending" {
		t.Fatalf("login of a user whose provisioning failed: %d %s", r.Status, r.Body)
	}
	if got := s.metric("sdkauth_provisioning_failed_jobs"); got != "3" {
		t.Fatalf("sdkauth_provisioning_failed_jobs %s, want 3", got)
	}
	if got := s.metric("sdkauth_provisioning_queue_depth"); got != "0" {
		t.Fatalf("sdkauth_provisioning_queue_depth %s: failed jobs are not waiting", got)
	}

	// The listing pages with a cursor, and names bad input.
	r := s.jobsPage(admin, "?state=failed&page_size=2")
	first := r.JSON(t)
	cursor, _ := first["next_cursor"].(string)
	if len(first["jobs"].([]any)) != 2 || cursor == "" || !strings.Contains(r.Header.Get("Link"), `rel="next"`) {
		t.Fatalf("first page %d %s", r.Status, r.Body)
	}
	last := s.jobsPage(admin, "?state=failed&page_size=2&cursor="+url.QueryEscape(cursor)).JSON(t)
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
		r := s.jobsPage(admin, query)
		if code, name := firstInvalid(t, r); r.Status != http.StatusBadRequest || code != "validation_failed" || name != field {
			t.Errorf("%s: %d %s", query, r.Status, r.Body)
		}
	}
	if r := s.jobsPage("", "?state=failed"); r.Status != http.StatusUnauthorized {
		t.Fatalf("listing without credentials: %d", r.Status)
	}

	// Once Vonage accepts them, a retry provisions each user.
	s.clearFaults()
	for _, j := range failed {
		path := fmt.Sprintf("/v1/admin/provisioning/jobs/%d/retry", int64(j["id"].(float64)))
		r := s.Do(http.MethodPost, path, "", nil, "Authorization", admin)
		if got := r.JSON(t); r.Status != http.StatusOK || got["state"] != "pending" || got["attempts"] != 0.0 || got["run_at"] == nil {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
	}
	for name, id := range ids {
		testkit.WaitFor(t, 10*time.Second, name+" to be provisioned", func() bool {
			return s.adminUser(admin, id)["provisioning"] == users.StateProvisioned
		})
	}
	if got := s.metric("sdkauth_provisioning_failed_jobs"); got != "0" {
		t.Fatalf("sdkauth_provisioning_failed_jobs %s after the retries", got)
	}
	if created := s.Em.Stats()["POST /v1/users 201"]; created != 3 {
		t.Fatalf("%d users created at Vonage, want 3", created)
	}
	s.mustLogin("new-user-a", goodPassword)
	for _, path := range []string{"/v1/admin/provisioning/jobs/999999/retry", "/v1/admin/provisioning/jobs/not-a-job/retry"} {
		if r := s.Do(http.MethodPost, path, "", nil, "Authorization", admin); r.Status != http.StatusNotFound {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	retried := 0
	for _, e := range s.audit("provisioning_job_retried") {
		if e.Actor == "client:"+clientID {
			retried++
		}
	}
	if retried != 3 {
		t.Fatalf("%d retries audit-logged with the acting client, want 3", retried)
	}
}

func TestAJobFailsAfterItsAttemptsAndReconcileFixRetriesIt(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_PROVISIONING_MAX_ATTEMPTS": "3"})
	admin := s.AdminAuth("admin")
	s.setFaults(`{"path": "/v1/users", "method": "POST", "status": 503}`)
	r := s.PostJSON("/v1/signup", map[string]string{"username": "new-user", "password": goodPassword})
	if r.Status != http.StatusAccepted {
		t.Fatalf("sign-up during an outage: %d %s", r.Status, r.Body)
	}
	id := userID(r.JSON(t))
	testkit.WaitFor(t, 30*time.Second, "the job to fail for good", func() bool { return len(s.failedJobs(admin)) == 1 })
	if j := s.failedJobs(admin)[0]; j["attempts"] != 3.0 || !strings.Contains(j["last_error"].(string), "503") {
		t.Fatalf("failed job %v", j)
	}
	if got := s.Em.Stats()["POST /v1/users 503"]; got != 3 {
		t.Fatalf("%d attempts reached Vonage, want 3", got)
	}
	if u := s.adminUser(admin, id); u["provisioning"] != users.StateFailed {
		t.Fatalf("user %v", u)
	}
	if d := driftByName(s.reconcile())["provisioning_failed new-user"]; d.Fixed || !strings.Contains(d.Detail, "503") {
		t.Fatalf("reconcile reports %+v", d)
	}

	s.clearFaults()
	d := driftByName(s.reconcile("--fix"))["provisioning_failed new-user"]
	if !d.Fixed {
		t.Fatalf("reconcile --fix: %+v", d)
	}
	// Fixed at once, by reconcile itself.
	if u := s.adminUser(admin, id); u["provisioning"] != users.StateProvisioned || u["vonage_user_id"] == nil {
		t.Fatalf("user after reconcile --fix: %v", u)
	}
	if all := s.Em.Users(s.AppID); len(all) != 1 || all[0].Name != "new-user" {
		t.Fatalf("Vonage users %+v", all)
	}
	if left := s.failedJobs(admin); len(left) != 0 {
		t.Fatalf("failed jobs left: %v", left)
	}
	if rep := s.reconcile(); len(rep.Drift) != 0 {
		t.Fatalf("drift after --fix: %+v", rep.Drift)
	}
}

// TestARetryAfterHoldOnOneReplicaHoldsTheOther: Vonage answers one replica
// 429 with Retry-After; the other, on the same database, then makes no call
// to Vonage until the hold has passed.
func TestARetryAfterHoldOnOneReplicaHoldsTheOther(t *testing.T) {
	t.Parallel()
	a := newStack(t, map[string]string{"SDKAUTH_LOGIN_RATE_PER_IP": "0"})
	b := a.replica()
	a.setFaults(`{"path": "/v1/users", "method": "POST", "status": 429, "retry_after": 5, "count": 1}`)
	for _, rep := range []struct {
		s    *stack
		name string
	}{{a, "new-user-a"}, {b, "new-user-b"}} {
		r := rep.s.PostJSON("/v1/signup", map[string]string{"username": rep.name, "password": goodPassword})
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

// The new settings are checked with every other one, and every problem is
// reported at once.
func TestJobAndRetentionSettingsAreReportedWithTheOthers(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(mapEnv(map[string]string{}), need{})
	if err != nil || cfg.ProvisioningMaxAttempts != users.DefaultMaxAttempts || cfg.AuditRetention != 90*24*time.Hour {
		t.Fatalf("defaults: %d attempts, %s retention (%v)", cfg.ProvisioningMaxAttempts, cfg.AuditRetention, err)
	}
	cfg, err = loadConfig(mapEnv(map[string]string{"SDKAUTH_PROVISIONING_MAX_ATTEMPTS": "5", "SDKAUTH_AUDIT_RETENTION": "720h"}), need{})
	if err != nil || cfg.ProvisioningMaxAttempts != 5 || cfg.AuditRetention != 30*24*time.Hour {
		t.Fatalf("set: %d attempts, %s retention (%v)", cfg.ProvisioningMaxAttempts, cfg.AuditRetention, err)
	}
	_, err = loadConfig(mapEnv(map[string]string{
		"SDKAUTH_PROVISIONING_MAX_ATTEMPTS": "0",
		"SDKAUTH_AUDIT_RETENTION":           "90d",
		"SDKAUTH_LOG_LEVEL":                 "loud",
	}), need{})
	for _, want := range []string{"SDKAUTH_PROVISIONING_MAX_ATTEMPTS", "SDKAUTH_AUDIT_RETENTION: \"90d\" is not a duration", "SDKAUTH_LOG_LEVEL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("configuration error %v lacks %s", err, want)
		}
	}
}
