package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/internal/servertest"
)

func TestAuditLogRecordsAccountEventsWithoutSecrets(t *testing.T) {
	t.Parallel()
	s := newStack(t, map[string]string{"SDKAUTH_REFRESH_GRACE": "0s"})
	ua := []string{"User-Agent", "audit-test/1.0"}
	post := func(path string, body string, header ...string) response {
		t.Helper()
		return s.Do(http.MethodPost, path, "application/json", strings.NewReader(body), append(header, ua...)...)
	}
	r := post("/v1/signup", `{"username":"new-user","password":"correct horse battery"}`)
	if r.Status != http.StatusCreated {
		t.Fatalf("signup: %d %s", r.Status, r.Body)
	}
	signup := r.JSON(t)
	id := servertest.UserID(signup)
	secrets := []string{servertest.GoodPassword, "not the password", "a brand new secret", signup["refresh_token"].(string)}

	post("/v1/token", `{"grant_type":"password","username":"new-user","password":"not the password"}`)
	post("/v1/token", `{"grant_type":"password","username":"nobody-here","password":"not the password"}`)
	login := post("/v1/token", `{"grant_type":"password","username":"new-user","password":"correct horse battery"}`).JSON(t)
	r0 := login["refresh_token"].(string)
	refreshed := post("/v1/token", `{"grant_type":"refresh_token","refresh_token":"`+r0+`"}`).JSON(t)
	secrets = append(secrets, r0, refreshed["refresh_token"].(string))
	s.age(signup, 1)                                                             // past the (zero) grace window
	post("/v1/token", `{"grant_type":"refresh_token","refresh_token":"`+r0+`"}`) // reuse
	post("/v1/logout", `{"refresh_token":"`+signup["refresh_token"].(string)+`"}`)
	if r := s.Do(http.MethodPatch, "/v1/me", "application/json", strings.NewReader(`{"display_name":"A New User"}`), append(bearer(signup), ua...)...); r.Status != http.StatusOK {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	changed := post("/v1/me/password", `{"current_password":"correct horse battery","new_password":"a brand new secret"}`, bearer(signup)...).JSON(t)
	secrets = append(secrets, changed["refresh_token"].(string))
	post("/v1/logout", `{"scope":"global"}`, bearer(changed)...)
	fresh := s.MustLogin("new-user", "a brand new secret")
	if r := s.Do(http.MethodDelete, "/v1/me", "application/json", strings.NewReader(`{"password":"a brand new secret"}`), append(bearer(fresh), ua...)...); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}

	want := []struct{ event, reason string }{
		{"signup", ""},
		{"login_failed", "wrong_password"},
		{"login_failed", "unknown_user"},
		{"login_succeeded", ""},
		{"token_refreshed", ""},
		{"refresh_token_reused", ""},
		{"logout", "session"},
		{"profile_updated", ""},
		{"password_changed", ""},
		{"logout", "global"},
		{"login_succeeded", ""},
		{"user_deleted", ""},
	}
	got := s.Audit("")
	if len(got) != len(want) {
		t.Fatalf("%d audit rows, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		e := got[i]
		if e.Event != w.event || e.Reason != w.reason {
			t.Errorf("row %d is %s/%s, want %s/%s", i, e.Event, e.Reason, w.event, w.reason)
		}
		if e.IP != "127.0.0.1" {
			t.Errorf("row %d (%s): ip %q", i, e.Event, e.IP)
		}
		if i != 10 && e.UserAgent != "audit-test/1.0" { // row 10's login (mustLogin) sends Go's own
			t.Errorf("row %d (%s): user agent %q", i, e.Event, e.UserAgent)
		}
		wantUser := id
		if e.Reason == "unknown_user" {
			wantUser = ""
		}
		if e.UserID != wantUser {
			t.Errorf("row %d (%s): user %q, want %q", i, e.Event, e.UserID, wantUser)
		}
	}
	// No column of any row holds a password or a refresh token.
	all, err := db.New(s.App.Pool).AllAuditEvents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dump := fmt.Sprintf("%+v", all)
	for _, secret := range secrets {
		if strings.Contains(dump, secret) {
			t.Fatalf("the audit log holds a secret: %q", secret)
		}
	}
}

// The sweeper of `serve` deletes the audit rows older than
// SDKAUTH_AUDIT_RETENTION and keeps the rest.
func TestTheSweeperKeepsTheAuditLogToItsRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, map[string]string{"SDKAUTH_AUDIT_RETENTION": "24h"})
	s.Signup("new-user", servertest.GoodPassword)
	q := db.New(s.App.Pool)
	if err := q.InsertPastAuditRows(ctx, db.InsertPastAuditRowsParams{AgoSeconds: 3 * 24 * 60 * 60, StepSeconds: 1, Event: "login_failed", N: 2500}); err != nil {
		t.Fatal(err)
	}
	if err := s.App.Accounts.SweepAudit(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := q.AllAuditEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old := 0
	for _, e := range all {
		if time.Since(e.At) > 24*time.Hour {
			old++
		}
	}
	if old != 0 {
		t.Fatalf("%d rows older than the retention left", old)
	}
	if got := s.Audit("signup"); len(got) != 1 {
		t.Fatalf("the sweep took recent rows: %+v", got)
	}
}
