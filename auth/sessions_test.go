package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func newUser(t *testing.T, pool *pgxpool.Pool, provisioned bool) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	q := db.New(pool)
	u, err := q.CreateUser(ctx, db.CreateUserParams{ID: uuid.New(), Username: "user-" + uuid.NewString()[:8], PasswordHash: "x", Policy: "client-sdk"})
	if err != nil {
		t.Fatal(err)
	}
	if provisioned {
		vid := "USR-" + uuid.NewString()
		if _, err := q.MarkUserProvisioned(ctx, db.MarkUserProvisionedParams{ID: u.ID, VonageUserID: &vid}); err != nil {
			t.Fatal(err)
		}
	}
	return u.ID
}

// age moves the times stored for user's sessions seconds into the past:
// the clock the session rules read (Postgres's now()) moves on that much.
func age(t *testing.T, pool *pgxpool.Pool, user uuid.UUID, seconds float64) {
	t.Helper()
	if err := db.New(pool).AgeUserSessions(context.Background(), db.AgeUserSessionsParams{UserID: user, Seconds: seconds}); err != nil {
		t.Fatal(err)
	}
}

var testSessions = auth.SessionConfig{Idle: time.Hour, Max: 24 * time.Hour, Grace: 10 * time.Second}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := auth.NewSessions(pool, testSessions, nil)
	r0, err := s.Start(ctx, newUser(t, pool, true), auth.Origin{IP: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Refresh(ctx, r0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken == r0 || len(got.RefreshToken) != 43 {
		t.Fatalf("new token %q", got.RefreshToken)
	}
	if _, err := s.Refresh(ctx, got.RefreshToken, nil); err != nil {
		t.Fatalf("rotated token: %v", err)
	}
	if _, err := s.Refresh(ctx, "not-a-token", nil); sdkauth.ErrorCode(err) != sdkauth.CodeInvalidGrant {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestRefreshReuseAfterGraceRevokesSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := auth.NewSessions(pool, auth.SessionConfig{Idle: time.Hour, Max: time.Hour, Grace: 0}, nil)
	user := newUser(t, pool, true)
	r0, _ := s.Start(ctx, user, auth.Origin{})
	r1, err := s.Refresh(ctx, r0, nil)
	if err != nil {
		t.Fatal(err)
	}
	age(t, pool, user, 0.01)
	if _, err := s.Refresh(ctx, r0, nil); sdkauth.ErrorCode(err) != sdkauth.CodeRefreshTokenReused {
		t.Fatalf("reuse: got %v", err)
	}
	if _, err := s.Refresh(ctx, r1.RefreshToken, nil); sdkauth.ErrorCode(err) != sdkauth.CodeInvalidGrant {
		t.Fatalf("after reuse: got %v", err)
	}
}

func TestRefreshPendingDoesNotConsume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := auth.NewSessions(pool, auth.SessionConfig{Idle: time.Hour, Max: time.Hour, Grace: 0}, nil)
	id := newUser(t, pool, false)
	r0, _ := s.Start(ctx, id, auth.Origin{})
	if _, err := s.Refresh(ctx, r0, nil); sdkauth.ErrorCode(err) != sdkauth.CodeProvisioningPending {
		t.Fatalf("pending: got %v", err)
	}
	vid := "USR-" + uuid.NewString()
	if _, err := db.New(pool).MarkUserProvisioned(ctx, db.MarkUserProvisionedParams{ID: id, VonageUserID: &vid}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(ctx, r0, nil); err != nil {
		t.Fatalf("after provisioning: %v", err)
	}
}

func TestConcurrentRefreshKeepsOneSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	s := auth.NewSessions(pool, testSessions, nil)
	user := newUser(t, pool, true)
	r0, _ := s.Start(ctx, user, auth.Origin{})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Refresh(ctx, r0, nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent refresh: %v", err)
		}
	}
	live, err := db.New(pool).CountUnrevokedSessions(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if live != 1 {
		t.Fatalf("live sessions = %d, want 1", live)
	}
}
