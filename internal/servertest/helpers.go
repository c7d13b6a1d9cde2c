package servertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/db"
)

// GoodPassword is a password every policy accepts.
const GoodPassword = "correct horse battery"

// Login asks for the password grant.
func (s *Stack) Login(username, password string, header ...string) Response {
	s.T.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}
	return s.Do(http.MethodPost, "/v1/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), header...)
}

// MustLogin logs in and returns the token response.
func (s *Stack) MustLogin(username, password string) map[string]any {
	s.T.Helper()
	r := s.Login(username, password)
	if r.Status != http.StatusOK {
		s.T.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return r.JSON(s.T)
}

// UserID returns the user id of a token response.
func UserID(body map[string]any) string { return body["user"].(map[string]any)["id"].(string) }

// AuditEvent is one audit_log row as tests see it.
type AuditEvent struct {
	Event, UserID, Username, IP, UserAgent, Reason, Detail, Actor string
}

// Audit returns the audit rows in the order written, with event (when
// not empty) as the only event kept.
func (s *Stack) Audit(event string) []AuditEvent {
	s.T.Helper()
	rows, err := db.New(s.App.Pool).AllAuditEvents(context.Background())
	if err != nil {
		s.T.Fatal(err)
	}
	var out []AuditEvent
	for _, r := range rows {
		if event != "" && r.Event != event {
			continue
		}
		e := AuditEvent{Event: r.Event, Username: r.Username, IP: r.Ip, UserAgent: r.UserAgent, Reason: r.Reason, Detail: r.Detail, Actor: r.Actor}
		if r.UserID != nil {
			e.UserID = r.UserID.String()
		}
		out = append(out, e)
	}
	return out
}

// DecodeSegment decodes part i of a compact JWT as a JSON object.
func DecodeSegment(t testing.TB, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// KeysOf returns the keys of m, sorted.
func KeysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// WithoutRequestID drops the per-request id so two problem bodies compare.
func WithoutRequestID(t testing.TB, r Response) string {
	m := r.JSON(t)
	delete(m, "request_id")
	b, _ := json.Marshal(m)
	return string(b)
}

// SetFaults installs faults through the emulator's HTTP control endpoint,
// as a test against a separate emulator process would.
func (s *Stack) SetFaults(body string) {
	s.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.EmURL+"/_emulator/faults", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if r := s.send(http.DefaultClient, req); r.Status != http.StatusOK {
		s.T.Fatalf("installing faults: %d %s", r.Status, r.Body)
	}
}

// ClearFaults removes the emulator's faults.
func (s *Stack) ClearFaults() {
	s.T.Helper()
	req, _ := http.NewRequest(http.MethodDelete, s.EmURL+"/_emulator/faults", nil)
	if r := s.send(http.DefaultClient, req); r.Status != http.StatusNoContent {
		s.T.Fatalf("clearing faults: %d %s", r.Status, r.Body)
	}
}

// JobsPage lists provisioning jobs through the admin API.
func (s *Stack) JobsPage(admin, query string) Response {
	s.T.Helper()
	return s.Do(http.MethodGet, "/v1/admin/provisioning/jobs"+query, "", nil, "Authorization", admin)
}

// FailedJobs returns every failed job the admin API lists.
func (s *Stack) FailedJobs(admin string) []map[string]any {
	s.T.Helper()
	r := s.JobsPage(admin, "?state=failed&page_size=100")
	if r.Status != http.StatusOK {
		s.T.Fatalf("listing failed jobs: %d %s", r.Status, r.Body)
	}
	var out []map[string]any
	for _, j := range r.JSON(s.T)["jobs"].([]any) {
		out = append(out, j.(map[string]any))
	}
	return out
}

// AdminUser reads a user through the admin API.
func (s *Stack) AdminUser(admin, id string) map[string]any {
	s.T.Helper()
	r := s.Do(http.MethodGet, "/v1/admin/users/"+id, "", nil, "Authorization", admin)
	if r.Status != http.StatusOK {
		s.T.Fatalf("admin get user: %d %s", r.Status, r.Body)
	}
	return r.JSON(s.T)
}
