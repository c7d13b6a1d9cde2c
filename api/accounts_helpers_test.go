package api_test

import (
	"context"
	"net/url"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/internal/servertest"
)

// refresh asks for the refresh_token grant.
func (s *stack) refresh(token string) response {
	s.T.Helper()
	return s.PostForm("/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
}

// bearer returns the Authorization header pair for an access token.
func bearer(body map[string]any) []string {
	return []string{"Authorization", "Bearer " + body["access_token"].(string)}
}

// age moves the times stored for the sessions of the user whose sign-up
// or token response body is seconds into the past: the clock the session
// rules read (Postgres's now()) moves on that much for them.
func (s *stack) age(body map[string]any, seconds float64) {
	s.T.Helper()
	id, err := uuid.Parse(servertest.UserID(body))
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
