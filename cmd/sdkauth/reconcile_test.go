package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/users"
	"github.com/sdkauth/sdkauth/vonage"
)

// vonageAdmin is a Vonage client acting behind sdkauth's back.
func (s *stack) vonageAdmin() *vonage.Client {
	m := &keys.Minter{ApplicationID: s.AppID, Signer: keys.NewGoSigner(s.Key)}
	return vonage.New(s.EmURL, func() (string, error) {
		tok, _, err := m.AdminToken(10*time.Minute, nil)
		return tok, err
	})
}

// reconcile runs `sdkauth users reconcile -o json` with args and decodes
// the report.
func (s *stack) reconcile(args ...string) users.Report {
	s.T.Helper()
	out, err := s.runWith(map[string]string{
		"VONAGE_API_URL":             s.EmURL,
		"SDKAUTH_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(s.App.Config.KeyEncryptionKey),
	}, append([]string{"users", "reconcile", "-o", "json"}, args...)...)
	if err != nil {
		s.T.Fatalf("reconcile: %v\n%s", err, out)
	}
	var rep users.Report
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &rep); err != nil {
		s.T.Fatalf("reconcile output: %v\n%s", err, out)
	}
	return rep
}

// driftByName indexes a report's drift as "kind name".
func driftByName(rep users.Report) map[string]users.Drift {
	m := map[string]users.Drift{}
	for _, d := range rep.Drift {
		m[d.Kind+" "+d.Username] = d
	}
	return m
}

func TestReconcileFindsDriftBothWaysAndFixesWhatIsOurs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, nil)
	a := s.Signup("new-user-a", servertest.GoodPassword)
	s.Signup("new-user-b", servertest.GoodPassword)
	c := s.Signup("new-user-c", servertest.GoodPassword)
	admin := s.vonageAdmin()
	// Behind our back: new-user-a's Vonage user is deleted, others appear
	// (more than a page of them, so reconcile must follow the next links),
	// and new-user-c's local row is lost while its Vonage user stays.
	if err := admin.DeleteUser(ctx, a["user"].(map[string]any)["vonage_user_id"].(string)); err != nil {
		t.Fatal(err)
	}
	for i := range 101 {
		if _, err := admin.CreateUser(ctx, vonage.User{Name: fmt.Sprintf("outsider-%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	foreign := vonage.User{Name: "foreign-owned", Properties: &vonage.UserProperties{CustomData: map[string]any{users.OwnerKey: uuid.NewString()}}}
	if _, err := admin.CreateUser(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	if err := db.New(s.App.Pool).DeleteUser(ctx, uuid.MustParse(servertest.UserID(c))); err != nil {
		t.Fatal(err)
	}

	rep := s.reconcile()
	if rep.LocalUsers != 2 || rep.RemoteUsers != 2+101+1 {
		t.Fatalf("counted %d local and %d remote users", rep.LocalUsers, rep.RemoteUsers)
	}
	d := driftByName(rep)
	for _, want := range []string{"missing_remote new-user-a", "remote_only outsider-000", "remote_only outsider-100", "remote_only foreign-owned", "orphaned_remote new-user-c"} {
		if _, ok := d[want]; !ok {
			t.Errorf("no %q in %d drift entries", want, len(rep.Drift))
		}
	}
	if len(rep.Drift) != 1+101+1+1 {
		t.Fatalf("%d drift entries, want %d", len(rep.Drift), 104)
	}
	if got := len(s.Em.Users(s.AppID)); got != 104 {
		t.Fatalf("a report without --fix changed Vonage: %d users", got)
	}

	fixed := driftByName(s.reconcile("--fix"))
	if !fixed["missing_remote new-user-a"].Fixed || !fixed["orphaned_remote new-user-c"].Fixed {
		t.Fatalf("not fixed: %+v %+v", fixed["missing_remote new-user-a"], fixed["orphaned_remote new-user-c"])
	}
	if fixed["remote_only foreign-owned"].Fixed || fixed["remote_only outsider-000"].Fixed {
		t.Fatal("--fix claims to have fixed a user that is not ours")
	}
	names := map[string]map[string]any{}
	for _, u := range s.Em.Users(s.AppID) {
		names[u.Name] = u.Properties["custom_data"].(map[string]any)
	}
	if names["new-user-a"][users.OwnerKey] != servertest.UserID(a) {
		t.Fatalf("new-user-a was not re-created as ours: %v", names["new-user-a"])
	}
	if _, ok := names["new-user-c"]; ok {
		t.Fatal("the orphan we created is still there")
	}
	if _, ok := names["foreign-owned"]; !ok || len(names) != 2+101+1 {
		t.Fatalf("a Vonage user we did not create was deleted (%d users left)", len(names))
	}
	// The re-created user works end to end.
	tok := s.MustLogin("new-user-a", servertest.GoodPassword)
	vid := tok["user"].(map[string]any)["vonage_user_id"].(string)
	if vid != fixed["missing_remote new-user-a"].VonageUserID {
		t.Fatalf("local user points at %s, reconcile made %s", vid, fixed["missing_remote new-user-a"].VonageUserID)
	}
	if r := s.EmulatorDo("GET", "/v1/users/"+vid, tok["access_token"].(string)); r.Status != 200 {
		t.Fatalf("the emulator refuses the re-created user's token: %d %s", r.Status, r.Body)
	}
	again := s.reconcile()
	for _, dr := range again.Drift {
		if dr.Kind != users.DriftRemoteOnly {
			t.Fatalf("drift left after --fix: %+v", dr)
		}
	}
}

func TestReconcileRepairsFieldsNamesAndLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, nil)
	a := s.Signup("new-user-a", servertest.GoodPassword)
	b := s.Signup("new-user-b", servertest.GoodPassword)
	admin := s.vonageAdmin()
	other, name := "Someone Else", "renamed-behind-our-back"
	if _, err := admin.UpdateUser(ctx, a["user"].(map[string]any)["vonage_user_id"].(string), vonage.UserUpdate{DisplayName: &other}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UpdateUser(ctx, b["user"].(map[string]any)["vonage_user_id"].(string), vonage.UserUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	d := driftByName(s.reconcile("--fix"))
	if !d["fields_differ new-user-a"].Fixed || !d["renamed_remotely new-user-b"].Fixed || len(d) != 2 {
		t.Fatalf("drift %+v", d)
	}
	for _, u := range s.Em.Users(s.AppID) {
		if u.Name != "new-user-a" && u.Name != "new-user-b" || u.DisplayName != "" {
			t.Fatalf("after --fix: %+v", u)
		}
	}
	if rep := s.reconcile(); len(rep.Drift) != 0 {
		t.Fatalf("drift left: %+v", rep.Drift)
	}
}

func TestAJobFailsAfterItsAttemptsAndReconcileFixRetriesIt(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_PROVISIONING_MAX_ATTEMPTS": "3"})
	admin := s.AdminAuth("admin")
	s.SetFaults(`{"path": "/v1/users", "method": "POST", "status": 503}`)
	r := s.PostJSON("/v1/signup", map[string]string{"username": "new-user", "password": servertest.GoodPassword})
	if r.Status != http.StatusAccepted {
		t.Fatalf("sign-up during an outage: %d %s", r.Status, r.Body)
	}
	id := servertest.UserID(r.JSON(t))
	testkit.WaitFor(t, 30*time.Second, "the job to fail for good", func() bool { return len(s.FailedJobs(admin)) == 1 })
	if j := s.FailedJobs(admin)[0]; j["attempts"] != 3.0 || !strings.Contains(j["last_error"].(string), "503") {
		t.Fatalf("failed job %v", j)
	}
	if got := s.Em.Stats()["POST /v1/users 503"]; got != 3 {
		t.Fatalf("%d attempts reached Vonage, want 3", got)
	}
	if u := s.AdminUser(admin, id); u["provisioning"] != users.StateFailed {
		t.Fatalf("user %v", u)
	}
	if d := driftByName(s.reconcile())["provisioning_failed new-user"]; d.Fixed || !strings.Contains(d.Detail, "503") {
		t.Fatalf("reconcile reports %+v", d)
	}

	s.ClearFaults()
	d := driftByName(s.reconcile("--fix"))["provisioning_failed new-user"]
	if !d.Fixed {
		t.Fatalf("reconcile --fix: %+v", d)
	}
	// Fixed at once, by reconcile itself.
	if u := s.AdminUser(admin, id); u["provisioning"] != users.StateProvisioned || u["vonage_user_id"] == nil {
		t.Fatalf("user after reconcile --fix: %v", u)
	}
	if all := s.Em.Users(s.AppID); len(all) != 1 || all[0].Name != "new-user" {
		t.Fatalf("Vonage users %+v", all)
	}
	if left := s.FailedJobs(admin); len(left) != 0 {
		t.Fatalf("failed jobs left: %v", left)
	}
	if rep := s.reconcile(); len(rep.Drift) != 0 {
		t.Fatalf("drift after --fix: %+v", rep.Drift)
	}
}
