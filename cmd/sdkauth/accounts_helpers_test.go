package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/db"
)

const goodPassword = "correct horse battery"

// login asks for the password grant.
func (s *stack) login(username, password string, header ...string) response {
	s.T.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {username}, "password": {password}}
	return s.Do(http.MethodPost, "/v1/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), header...)
}

// mustLogin logs in and returns the token response.
func (s *stack) mustLogin(username, password string) map[string]any {
	s.T.Helper()
	r := s.login(username, password)
	if r.Status != http.StatusOK {
		s.T.Fatalf("login: %d %s", r.Status, r.Body)
	}
	return r.JSON(s.T)
}

// refresh asks for the refresh_token grant.
func (s *stack) refresh(token string) response {
	s.T.Helper()
	return s.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
}

// bearer returns the Authorization header pair for an access token.
func bearer(body map[string]any) []string {
	return []string{"Authorization", "Bearer " + body["access_token"].(string)}
}

// userID returns the user id of a token response.
func userID(body map[string]any) string { return body["user"].(map[string]any)["id"].(string) }

// age moves the times stored for the sessions of the user whose sign-up
// or token response body is seconds into the past: the clock the session
// rules read (Postgres's now()) moves on that much for them.
func (s *stack) age(body map[string]any, seconds float64) {
	s.T.Helper()
	id, err := uuid.Parse(userID(body))
	if err != nil {
		s.T.Fatal(err)
	}
	if err := db.New(s.App.Pool).AgeUserSessions(context.Background(), db.AgeUserSessionsParams{UserID: id, Seconds: seconds}); err != nil {
		s.T.Fatal(err)
	}
}

// liveSessions counts the sessions of a user that are not revoked.
func (s *stack) liveSessions(userID string) int {
	s.T.Helper()
	id, err := uuid.Parse(userID)
	if err != nil {
		s.T.Fatal(err)
	}
	n, err := db.New(s.App.Pool).CountUnrevokedSessions(context.Background(), id)
	if err != nil {
		s.T.Fatal(err)
	}
	return int(n)
}

// auditEvent is one audit_log row as tests see it.
type auditEvent struct {
	Event, UserID, Username, IP, UserAgent, Reason, Detail, Actor string
}

// audit returns the audit rows in the order written, with event (when
// not empty) as the only event kept.
func (s *stack) audit(event string) []auditEvent {
	s.T.Helper()
	rows, err := db.New(s.App.Pool).AllAuditEvents(context.Background())
	if err != nil {
		s.T.Fatal(err)
	}
	var out []auditEvent
	for _, r := range rows {
		if event != "" && r.Event != event {
			continue
		}
		e := auditEvent{Event: r.Event, Username: r.Username, IP: r.Ip, UserAgent: r.UserAgent, Reason: r.Reason, Detail: r.Detail, Actor: r.Actor}
		if r.UserID != nil {
			e.UserID = r.UserID.String()
		}
		out = append(out, e)
	}
	return out
}
