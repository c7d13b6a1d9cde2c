package auth

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/db"
)

// LiveSession is a session a refresh token could still continue, as an
// admin sees it.
type LiveSession struct {
	ID uuid.UUID
	// CreatedAt is the sign-in; LastUsedAt the latest refresh (or the
	// sign-in); ExpiresAt the absolute end, unless it idles out first.
	CreatedAt, LastUsedAt, ExpiresAt time.Time
	IP, UserAgent                    string
}

// Live lists userID's live sessions, newest first (at most 100): not
// revoked, not past their absolute end and used within the idle window.
// It returns the database's error.
func (s *Sessions) Live(ctx context.Context, userID uuid.UUID) ([]LiveSession, error) {
	rows, err := db.New(s.pool).ListLiveUserSessions(ctx, db.ListLiveUserSessionsParams{UserID: userID, IdleSeconds: s.cfg.Idle.Seconds()})
	if err != nil {
		return nil, err
	}
	out := make([]LiveSession, len(rows))
	for i, r := range rows {
		out[i] = LiveSession{ID: r.ID, CreatedAt: r.CreatedAt, LastUsedAt: r.RefreshedAt, ExpiresAt: r.ExpiresAt, IP: r.Ip, UserAgent: r.UserAgent}
	}
	return out, nil
}
