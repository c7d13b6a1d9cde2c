package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

// The sweep deletes the sessions that expired, were revoked or went idle
// more than a day ago, with their refresh tokens, and keeps every other.
// An idle session is found by refreshed_on, the day of its last refresh,
// which a refresh moves along with refreshed_at.
func TestSweepDeletesSessionsDeadForADay(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	q := db.New(pool)
	user := newUser(t, pool, true)
	session := func(name, backdate string) uuid.UUID {
		t.Helper()
		id := uuid.New()
		if err := q.CreateSession(ctx, db.CreateSessionParams{ID: id, UserID: user, ExpiresAt: time.Now().Add(testSessions.Max)}); err != nil {
			t.Fatal(err)
		}
		if err := q.CreateRefreshToken(ctx, db.CreateRefreshTokenParams{TokenHash: []byte(name), SessionID: id}); err != nil {
			t.Fatal(err)
		}
		if backdate != "" {
			if _, err := pool.Exec(ctx, "UPDATE sessions SET "+backdate+" WHERE id = $1", id); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	idleFor := "refreshed_at = now() - interval '1 hour' - interval '25 hours', refreshed_on = ((now() - interval '26 hours') AT TIME ZONE 'UTC')::date"
	dead := []uuid.UUID{
		session("expired", "expires_at = now() - interval '25 hours'"),
		session("revoked", "revoked_at = now() - interval '25 hours'"),
		session("idle", idleFor),
	}
	// Refreshed since it went idle: TouchSession moves refreshed_on too.
	touched := session("touched", idleFor)
	if err := q.TouchSession(ctx, touched); err != nil {
		t.Fatal(err)
	}
	var today bool
	if err := pool.QueryRow(ctx, "SELECT refreshed_on = (refreshed_at AT TIME ZONE 'UTC')::date FROM sessions WHERE id = $1", touched).Scan(&today); err != nil || !today {
		t.Fatalf("after TouchSession, refreshed_on is the day of refreshed_at: %v (%v)", today, err)
	}
	kept := []uuid.UUID{
		session("live", ""),
		touched,
		session("expired-recently", "expires_at = now() - interval '1 hour'"),
		session("revoked-recently", "revoked_at = now() - interval '1 hour'"),
		session("idle-recently", "refreshed_at = now() - interval '2 hours'"),
	}
	if err := auth.NewSessions(pool, testSessions, nil).Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	exists := func(id uuid.UUID) (session, tokens bool) {
		t.Helper()
		if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1), EXISTS (SELECT 1 FROM refresh_tokens WHERE session_id = $1)", id).Scan(&session, &tokens); err != nil {
			t.Fatal(err)
		}
		return session, tokens
	}
	for i, id := range dead {
		if s, tok := exists(id); s || tok {
			t.Errorf("dead session %d: session left %v, tokens left %v", i, s, tok)
		}
	}
	for i, id := range kept {
		if s, tok := exists(id); !s || !tok {
			t.Errorf("session %d to keep: session kept %v, tokens kept %v", i, s, tok)
		}
	}
}
