package users_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/users"
	"github.com/sdkauth/sdkauth/vonage"
)

func TestWhichFailuresEndAJob(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		ends bool
	}{
		{&vonage.Error{Status: http.StatusBadRequest}, true},
		{&vonage.Error{Status: http.StatusNotFound}, true},
		{&vonage.Error{Status: http.StatusUnprocessableEntity}, true},
		{&vonage.Error{Status: http.StatusConflict, Code: "user:error:other"}, true},
		{fmt.Errorf("wrapped: %w", &vonage.Error{Status: http.StatusBadRequest}), true},
		{&sdkauth.Error{Code: sdkauth.CodeUsernameTaken}, true},
		// About sdkauth's credentials or Vonage's load, not the job.
		{&vonage.Error{Status: http.StatusUnauthorized}, false},
		{&vonage.Error{Status: http.StatusForbidden}, false},
		{&vonage.Error{Status: http.StatusRequestTimeout}, false},
		{&vonage.Error{Status: http.StatusTooManyRequests}, false},
		{&vonage.Error{Status: http.StatusInternalServerError}, false},
		{&vonage.Error{Status: http.StatusServiceUnavailable}, false},
		{context.DeadlineExceeded, false},
		{errors.New("connection refused"), false},
	} {
		if got := users.Permanent(tc.err); got != tc.ends {
			t.Errorf("permanent(%v) = %v, want %v", tc.err, got, tc.ends)
		}
	}
}

// failedJobs lists the failed jobs through the domain method admins use.
func (e *env) failedJobs(t *testing.T) []users.Job {
	t.Helper()
	page, err := e.prov.ListJobs(context.Background(), users.JobListParams{PageSize: 100, State: users.JobFailed})
	if err != nil {
		t.Fatal(err)
	}
	return page.Jobs
}

func TestAPermanentRefusalEndsTheJobUntilRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, cheap, nil)
	e.em.SetFaults([]emulator.Fault{{Path: "/v1/users", Method: "POST", Status: http.StatusBadRequest}})
	u, err := e.svc.SignUp(ctx, users.SignUpInput{Username: "new-user", Password: "correct horse battery"})
	if err != nil || u.Provisioning != users.StateFailed {
		t.Fatalf("sign-up refused for good by Vonage: %+v %v", u, err)
	}
	failed := e.failedJobs(t)
	if len(failed) != 1 || failed[0].Attempts != 1 || failed[0].UserID != u.ID || failed[0].Username != "new-user" ||
		failed[0].Kind != users.JobCreate || failed[0].FailedAt.IsZero() || !failed[0].RunAt.IsZero() {
		t.Fatalf("failed jobs %+v", failed)
	}
	// Even made due by hand, a failed job is never claimed.
	e.makeDue(t)
	if n, err := e.worker.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("the worker claimed %d jobs (%v)", n, err)
	}
	if got := e.em.Stats()["POST /v1/users 400"]; got != 1 {
		t.Fatalf("%d creates refused, want the one attempt", got)
	}

	e.em.ClearFaults()
	j, err := e.prov.RetryJob(ctx, failed[0].ID)
	if err != nil || j.State != users.JobPending || j.Attempts != 0 {
		t.Fatalf("retry: %+v %v", j, err)
	}
	if got, _ := e.svc.Get(ctx, u.ID); got.Provisioning != users.StatePending {
		t.Fatalf("after the retry the user is %s, want pending", got.Provisioning)
	}
	if again, err := e.prov.RetryJob(ctx, failed[0].ID); err != nil || again.State != users.JobPending {
		t.Fatalf("retrying a pending job: %+v %v", again, err)
	}
	e.drain(t)
	if got, _ := e.svc.Get(ctx, u.ID); got.Provisioning != users.StateProvisioned || got.VonageUserID == "" {
		t.Fatalf("after the retry ran: %+v", got)
	}
	if _, err := e.prov.RetryJob(ctx, failed[0].ID); sdkauth.ErrorCode(err) != sdkauth.CodeNotFound {
		t.Fatalf("retrying a job that succeeded: %v", err)
	}
}

func TestAFailedJobHoldsBackNoLaterJobOfItsUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, cheap, nil)
	u, err := e.svc.SignUp(ctx, users.SignUpInput{Username: "new-user", Password: "correct horse battery"})
	if err != nil || u.Provisioning != users.StateProvisioned {
		t.Fatalf("sign-up: %+v %v", u, err)
	}
	e.em.SetFaults([]emulator.Fault{{Path: "/v1/users/", Method: "PATCH", Status: http.StatusUnprocessableEntity, Count: 1}})
	first, second := "A New User", "A Renamed User"
	if _, err := e.svc.UpdateProfile(ctx, u.ID, users.ProfileUpdate{DisplayName: &first}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if failed := e.failedJobs(t); len(failed) != 1 || failed[0].Kind != users.JobUpdate {
		t.Fatalf("failed jobs %+v", failed)
	}
	if u, err = e.svc.Get(ctx, u.ID); err != nil || u.Provisioning != users.StateProvisioned {
		t.Fatalf("a failed update leaves the user provisioned: %+v %v", u, err)
	}
	if _, err := e.svc.UpdateProfile(ctx, u.ID, users.ProfileUpdate{DisplayName: &second}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if all := e.em.Users(e.appID); len(all) != 1 || all[0].DisplayName != second {
		t.Fatalf("the later update did not run past the failed one: %+v", all)
	}
}
