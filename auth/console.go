package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/db"
)

// Console events; the acting client is in the actor column.
const (
	EventConsoleSignedIn  = "console_signed_in"
	EventConsoleSignedOut = "console_signed_out"
)

// ConsoleSession is a signed-in admin console: the service client it acts
// as and the token that every form it posts must carry.
type ConsoleSession struct {
	ClientID   string
	ClientName string
	// Scopes are the client's scopes as the request found them; actions
	// beyond admin (minting a user token) check them.
	Scopes []string
	// CSRF is the per-session token a state-changing request must echo.
	CSRF      string
	ExpiresAt time.Time
}

// ConsoleSessions keeps admin console sessions in Postgres.
//
// They live in a table rather than in sealed cookies: signing out (and
// deleting the client, or rotating its secret) ends a session at once on
// every replica, where a sealed cookie would stay valid until its absolute
// expiry; the idle expiry needs a last-seen time, which a cookie could only
// keep by being re-issued on every request; and there is no second key to
// manage. Only the SHA-256 of the cookie is stored: it is 256 random bits,
// a key and not a password.
type ConsoleSessions struct {
	pool  *pgxpool.Pool
	audit *Audit
	// Idle ends a session not used for this long; Absolute ends any session
	// this long after sign-in.
	Idle, Absolute time.Duration
}

// NewConsoleSessions returns console sessions that end after 30 minutes
// idle or 8 hours in all, recording sign-in and sign-out with audit.
func NewConsoleSessions(pool *pgxpool.Pool, audit *Audit) *ConsoleSessions {
	return &ConsoleSessions{pool: pool, audit: audit, Idle: 30 * time.Minute, Absolute: 8 * time.Hour}
}

// Start signs cl in and returns the cookie value and the session. The
// caller has authenticated cl (Clients.Authenticate). It returns
// CodeForbidden unless cl holds the admin scope, or the database's error.
func (s *ConsoleSessions) Start(ctx context.Context, cl ServiceClient) (string, ConsoleSession, error) {
	if !cl.Has(ScopeAdmin) {
		return "", ConsoleSession{}, sdkauth.Errorf(sdkauth.CodeForbidden, "This client lacks the %q scope.", ScopeAdmin)
	}
	token, csrf := randomToken(), randomToken()
	hash := sha256.Sum256([]byte(token))
	ctx = ActingAs(ctx, cl.ID)
	err := db.WithTx(ctx, s.pool, func(q *db.Queries) error {
		// Ended sessions are few (admins sign in rarely): clearing them
		// here needs no sweeper of its own.
		if _, err := q.DeleteEndedConsoleSessions(ctx, s.Idle.Seconds()); err != nil {
			return err
		}
		if err := q.CreateConsoleSession(ctx, db.CreateConsoleSessionParams{
			TokenHash: hash[:], ClientID: cl.ID, CsrfToken: csrf, AbsoluteSeconds: s.Absolute.Seconds(),
		}); err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, q, Event{Type: EventConsoleSignedIn})
	})
	if err != nil {
		return "", ConsoleSession{}, err
	}
	return token, ConsoleSession{ClientID: cl.ID, ClientName: cl.Name, Scopes: cl.Scopes, CSRF: csrf, ExpiresAt: time.Now().Add(s.Absolute)}, nil
}

// Resume returns the live session that token names and marks it used. It
// returns CodeInvalidToken when there is none (never was, signed out,
// expired, or its client deleted, rotated or no longer admin), or the
// database's error.
func (s *ConsoleSessions) Resume(ctx context.Context, token string) (ConsoleSession, error) {
	hash := sha256.Sum256([]byte(token))
	row, err := db.New(s.pool).ResumeConsoleSession(ctx, db.ResumeConsoleSessionParams{
		TokenHash: hash[:], IdleSeconds: s.Idle.Seconds(), Scope: ScopeAdmin,
	})
	if db.IsNotFound(err) {
		return ConsoleSession{}, sdkauth.Errorf(sdkauth.CodeInvalidToken, "The console session has ended; sign in again.")
	}
	if err != nil {
		return ConsoleSession{}, err
	}
	return ConsoleSession{ClientID: row.ClientID, ClientName: row.ClientName, Scopes: row.ClientScopes, CSRF: row.CsrfToken, ExpiresAt: row.ExpiresAt}, nil
}

// End signs the session that token names out; an unknown token is not an
// error. It returns the database's error.
func (s *ConsoleSessions) End(ctx context.Context, token string, cl ConsoleSession) error {
	hash := sha256.Sum256([]byte(token))
	ctx = ActingAs(ctx, cl.ClientID)
	return db.WithTx(ctx, s.pool, func(q *db.Queries) error {
		n, err := q.DeleteConsoleSession(ctx, hash[:])
		if err != nil || n == 0 {
			return err
		}
		return s.audit.RecordTx(ctx, q, Event{Type: EventConsoleSignedOut})
	})
}

// Has reports whether the session's client holds scope.
func (s ConsoleSession) Has(scope string) bool { return slices.Contains(s.Scopes, scope) }

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
