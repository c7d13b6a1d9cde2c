package auth_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

func TestLogoutEndsOneSessionAndLogoutAllEndsEvery(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := auth.WithOrigin(context.Background(), auth.Origin{IP: "192.0.2.9", UserAgent: "test-agent"})
	s := auth.NewSessions(pool, testSessions, auth.NewAudit(pool, slog.New(slog.DiscardHandler)))
	user := newUser(t, pool, true)
	a, _ := s.Start(ctx, user, auth.Origin{})
	b, _ := s.Start(ctx, user, auth.Origin{})
	c, _ := s.Start(ctx, user, auth.Origin{})

	if err := s.Logout(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(ctx, a, nil); sdkauth.ErrorCode(err) != sdkauth.CodeInvalidGrant {
		t.Fatalf("a logged-out token: %v", err)
	}
	rb, err := s.Refresh(ctx, b, nil)
	if err != nil {
		t.Fatalf("another session after a logout: %v", err)
	}
	if err := s.Logout(ctx, "never-issued"); err != nil {
		t.Fatalf("an unknown token is not an error (RFC 7009): %v", err)
	}

	n, err := s.LogoutAll(ctx, user)
	if err != nil || n != 2 {
		t.Fatalf("LogoutAll = %d, %v; want the 2 live sessions", n, err)
	}
	for _, tok := range []string{rb.RefreshToken, c} {
		if _, err := s.Refresh(ctx, tok, nil); sdkauth.ErrorCode(err) != sdkauth.CodeInvalidGrant {
			t.Fatalf("after a global logout: %v", err)
		}
	}
	row, err := db.New(pool).GetUser(ctx, user)
	if err != nil || row.TokensValidAfter == nil {
		t.Fatalf("a global logout must refuse earlier access tokens: %+v %v", row.TokensValidAfter, err)
	}

	events, err := db.New(pool).ListAuditEvents(ctx, db.ListAuditEventsParams{UserID: &user, MaxRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Event+"/"+e.Reason)
		if e.Ip != "192.0.2.9" || e.UserAgent != "test-agent" {
			t.Errorf("event %s without the client: %q %q", e.Event, e.Ip, e.UserAgent)
		}
	}
	want := []string{"logout/global", "token_refreshed/", "logout/session"}
	if len(got) != len(want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("audit %v, want %v", got, want)
		}
	}
	if events[2].SessionID == nil || *events[2].SessionID == uuid.Nil {
		t.Fatal("a session logout does not name the session")
	}
}

func TestSessionsEndAfterTheirIdleAndAbsoluteLifetimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	idle := auth.NewSessions(pool, auth.SessionConfig{Idle: time.Second, Max: time.Hour, Grace: time.Second}, nil)
	short := auth.NewSessions(pool, auth.SessionConfig{Idle: time.Hour, Max: 1500 * time.Millisecond, Grace: time.Second}, nil)
	user := newUser(t, pool, true)
	a, _ := idle.Start(ctx, user, auth.Origin{})
	b, _ := short.Start(ctx, user, auth.Origin{})
	// Refreshing keeps the idle session alive but not the one past its maximum.
	age(t, pool, user, 0.7)
	ra, err := idle.Refresh(ctx, a, nil)
	if err != nil {
		t.Fatalf("within the idle lifetime: %v", err)
	}
	rb, err := short.Refresh(ctx, b, nil)
	if err != nil {
		t.Fatalf("within the absolute lifetime: %v", err)
	}
	age(t, pool, user, 0.9)
	if _, err := idle.Refresh(ctx, ra.RefreshToken, nil); err != nil {
		t.Fatalf("refreshed 0.9 s ago with a 1 s idle lifetime: %v", err)
	}
	if _, err := short.Refresh(ctx, rb.RefreshToken, nil); sdkauth.ErrorCode(err) != sdkauth.CodeInvalidGrant {
		t.Fatalf("past the absolute lifetime: %v", err)
	}
	age(t, pool, user, 1.1)
	if _, err := idle.Refresh(ctx, ra.RefreshToken, nil); sdkauth.ErrorCode(err) != sdkauth.CodeInvalidGrant {
		t.Fatalf("idle past its lifetime: %v", err)
	}
}
