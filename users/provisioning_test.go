package users_test

import (
	"context"
	"sync"
	"testing"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/users"
	"github.com/sdkauth/sdkauth/vonage"
)

var createsFail = []emulator.Fault{{Path: "/v1/users", Method: "POST", Status: 503}}

// drain runs the worker until no job is pending, making backoff due at
// once; it fails t after a bounded number of rounds.
func (e *env) drain(t *testing.T) {
	t.Helper()
	for range 20 {
		if e.pendingJobs(t) == 0 {
			return
		}
		e.makeDue(t)
		if _, err := e.worker.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	jobs, _ := db.New(e.pool).ListProvisioningJobs(context.Background())
	t.Fatalf("the outbox did not drain: %+v", jobs)
}

func TestCrashBetweenRemoteCreateAndLocalCommitIsAdopted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, cheap, nil)
	e.em.SetFaults(createsFail)
	u, err := e.svc.SignUp(ctx, users.SignUpInput{Username: "new-user", Password: "correct horse battery"})
	if err != nil || u.Provisioning != users.StatePending {
		t.Fatalf("sign-up during an outage: %+v %v", u, err)
	}
	// Our earlier attempt created the Vonage user, then crashed before the
	// local commit: the remote user exists and names this local user.
	e.em.ClearFaults()
	remote, err := e.client.CreateUser(ctx, vonage.User{Name: "new-user",
		Properties: &vonage.UserProperties{CustomData: map[string]any{users.OwnerKey: u.ID.String()}}})
	if err != nil {
		t.Fatal(err)
	}
	e.em.ResetStats()
	e.drain(t)

	got, err := e.svc.Get(ctx, u.ID)
	if err != nil || got.Provisioning != users.StateProvisioned || got.VonageUserID != remote.ID {
		t.Fatalf("after recovery: %+v %v; want the remote user %s adopted", got, err, remote.ID)
	}
	if all := e.em.Users(e.appID); len(all) != 1 {
		t.Fatalf("emulator has %d users, want exactly 1", len(all))
	}
	stats := e.em.Stats()
	if stats["POST /v1/users 409"] != 1 || stats["POST /v1/users 201"] != 0 {
		t.Fatalf("stats %v: want one duplicate-name answer and no second create", stats)
	}
}

func TestNameTakenAtVonageAnswersTakenAndLeavesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, cheap, nil)
	if _, err := e.client.CreateUser(ctx, vonage.User{Name: "taken-name"}); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.SignUp(ctx, users.SignUpInput{Username: "taken-name", Password: "correct horse battery"})
	if sdkauth.ErrorCode(err) != sdkauth.CodeUsernameTaken {
		t.Fatalf("sign-up with a name taken at Vonage: %v", err)
	}
	for _, table := range []string{"users", "provisioning_jobs", "sessions"} {
		if n := e.count(t, table); n != 0 {
			t.Fatalf("%d rows left in %s", n, table)
		}
	}
	if all := e.em.Users(e.appID); len(all) != 1 || all[0].Properties["custom_data"].(map[string]any)[users.OwnerKey] != nil {
		t.Fatalf("the foreign Vonage user was touched: %+v", all)
	}
}

func TestWorkersOnOneDatabaseCreateEachUserOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, cheap, nil)
	e.em.SetFaults(createsFail)
	const n = 30
	for i := range n {
		if _, err := e.svc.SignUp(ctx, users.SignUpInput{Username: "new-user-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
	}
	e.em.ClearFaults()
	e.em.ResetStats()
	e.makeDue(t)
	// Five workers, as five replicas would run, claim side by side.
	var wg sync.WaitGroup
	for range 5 {
		w := users.NewWorker(e.prov, users.WorkerConfig{Batch: 4})
		wg.Go(func() {
			for range 20 {
				if _, err := w.RunOnce(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	e.drain(t)
	stats := e.em.Stats()
	if stats["POST /v1/users 201"] != n || stats["POST /v1/users 409"] != 0 {
		t.Fatalf("stats %v: want exactly %d creates and no duplicate-name answer", stats, n)
	}
	if got := len(e.em.Users(e.appID)); got != n {
		t.Fatalf("%d remote users, want %d", got, n)
	}
}

func TestJobsOfAUserRunInOrderAndDeleteOnlyOurs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, cheap, nil)
	e.em.SetFaults(createsFail)
	u, err := e.svc.SignUp(ctx, users.SignUpInput{Username: "new-user", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	name := "A New User"
	if _, err := e.svc.UpdateProfile(ctx, u.ID, users.ProfileUpdate{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	// A crashed attempt left the remote user; then the user leaves while
	// still pending, so the delete job knows only the name.
	e.em.ClearFaults()
	if _, err := e.client.CreateUser(ctx, vonage.User{Name: "new-user",
		Properties: &vonage.UserProperties{CustomData: map[string]any{users.OwnerKey: u.ID.String()}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateUser(ctx, vonage.User{Name: "someone-elses"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Delete(ctx, u.ID, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	jobs, _ := db.New(e.pool).ListProvisioningJobs(ctx)
	if len(jobs) != 3 || jobs[0].Kind != users.JobCreate || jobs[1].Kind != users.JobUpdate || jobs[2].Kind != users.JobDelete {
		t.Fatalf("outbox %+v, want create, update, delete", jobs)
	}
	e.drain(t)
	all := e.em.Users(e.appID)
	if len(all) != 1 || all[0].Name != "someone-elses" {
		t.Fatalf("remote users %+v: ours should be gone and the foreign one kept", all)
	}
	if _, err := e.svc.SignUp(ctx, users.SignUpInput{Username: "NEW-user", Password: "correct horse battery"}); sdkauth.ErrorCode(err) != sdkauth.CodeUsernameTaken {
		t.Fatalf("a deleted name is reserved: %v", err)
	}
}
