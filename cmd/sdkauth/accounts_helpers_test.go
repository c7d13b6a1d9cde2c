package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"
)

const goodPassword = "correct horse battery"

// login asks for the password grant.
func (s *stack) login(username, password string, header ...string) response {
	s.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}
	return s.do(http.MethodPost, "/v1/token", "application/x-www-form-urlencoded", stringsReader(form.Encode()), header...)
}

// mustLogin logs in and returns the token response.
func (s *stack) mustLogin(username, password string) map[string]any {
	s.t.Helper()
	r := s.login(username, password)
	if r.Status != http.StatusOK {
		s.t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return r.JSON(s.t)
}

// refresh asks for the refresh_token grant.
func (s *stack) refresh(token string) response {
	s.t.Helper()
	return s.postForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
}

// bearer returns the Authorization header pair for an access token.
func bearer(body map[string]any) []string {
	return []string{"Authorization", "Bearer " + body["access_token"].(string)}
}

// userID returns the user id of a token response.
func userID(body map[string]any) string { return body["user"].(map[string]any)["id"].(string) }

// liveSessions counts the sessions of a user that are not revoked.
func (s *stack) liveSessions(userID string) int {
	s.t.Helper()
	var n int
	err := s.App.Pool.QueryRow(context.Background(),
		"SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL", userID).Scan(&n)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// auditEvent is one audit_log row as tests see it.
type auditEvent struct {
	Event, UserID, Username, IP, UserAgent, Reason, Detail string
}

// audit returns the audit rows in the order written, with event (when
// not empty) as the only event kept.
func (s *stack) audit(event string) []auditEvent {
	s.t.Helper()
	rows, err := s.App.Pool.Query(context.Background(), `
		SELECT event, COALESCE(user_id::text, ''), username, ip, user_agent, reason, detail
		FROM audit_log WHERE $1 = '' OR event = $1 ORDER BY id`, event)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []auditEvent
	for rows.Next() {
		var e auditEvent
		if err := rows.Scan(&e.Event, &e.UserID, &e.Username, &e.IP, &e.UserAgent, &e.Reason, &e.Detail); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// waitFor polls cond every 20 ms until it holds, failing t after timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
