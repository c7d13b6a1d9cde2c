package auth_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

// statements is a pgx tracer that records what a pool sends: the sqlc query
// name, or the first word of other SQL (begin, commit). It is how a test
// tells a single statement from a transaction without a hook in the code.
type statements struct {
	mu    sync.Mutex
	names []string
}

func (s *statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	name := strings.ToLower(strings.Fields(d.SQL)[0])
	if rest, ok := strings.CutPrefix(d.SQL, "-- name: "); ok {
		name = strings.Fields(rest)[0]
	}
	s.mu.Lock()
	s.names = append(s.names, name)
	s.mu.Unlock()
	return ctx
}

func (s *statements) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A batch is recorded as "batch", then its statements.
func (s *statements) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	s.mu.Lock()
	s.names = append(s.names, "batch")
	s.mu.Unlock()
	return ctx
}

func (s *statements) TraceBatchQuery(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	s.TraceQueryStart(ctx, c, pgx.TraceQueryStartData{SQL: d.SQL})
}

func (s *statements) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// take returns what was sent since the last take.
func (s *statements) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := s.names
	s.names = nil
	return names
}

// tracedPool returns a pool on a fresh database whose statements rec records.
func tracedPool(t *testing.T, rec *statements) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestRefreshFreshTokenInOneStatementOthersInTransaction(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	pool := tracedPool(t, rec)
	client := auth.Origin{IP: "192.0.2.7", UserAgent: "test-agent", Actor: "client:test"}
	ctx := auth.WithOrigin(context.Background(), client)
	cfg := testSessions
	cfg.Policies = auth.NewPolicies(pool, 15*time.Minute, time.Hour, nil)
	s := auth.NewSessions(pool, cfg, auth.NewAudit(pool, slog.New(slog.DiscardHandler)))
	user := newUser(t, pool, true)
	r0, err := s.Start(ctx, user, auth.Origin{})
	if err != nil {
		t.Fatal(err)
	}

	rec.take()
	fresh, err := s.Refresh(ctx, r0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); !slices.Equal(got, []string{"RotateFreshRefreshTokens"}) {
		t.Fatalf("a fresh token sent %q, want the one statement", got)
	}
	if fresh.User.ID != user || fresh.Policy.Name != auth.ClientSDK || len(fresh.RefreshToken) != 43 {
		t.Fatalf("fresh rotation = %+v", fresh)
	}

	// r0 again, within the grace window: the statement finds it rotated and
	// changes nothing, and the transaction hands out another token in the
	// same session.
	grace, err := s.Refresh(ctx, r0, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	if len(got) < 3 || got[0] != "RotateFreshRefreshTokens" || got[1] != "begin" || got[2] != "LockRefreshToken" || got[len(got)-1] != "commit" {
		t.Fatalf("a token within its grace window sent %q, want the statement, then the transaction", got)
	}
	if grace.SessionID != fresh.SessionID || grace.RefreshToken == fresh.RefreshToken || grace.Policy.Name != auth.ClientSDK {
		t.Fatalf("grace rotation = %+v, first = %+v", grace, fresh)
	}

	// Something to authorize always takes the transaction, which is what
	// lets a refusal leave the token unconsumed.
	if _, err := s.Refresh(ctx, fresh.RefreshToken, func(auth.Policy) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) == 0 || got[0] != "begin" {
		t.Fatalf("a refresh with authorize sent %q, want a transaction", got)
	}

	// The statement's audit row is the one the transaction writes.
	events, err := db.New(pool).ListAuditEvents(ctx, db.ListAuditEventsParams{UserID: &user, MaxRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 {
		t.Fatalf("%d audit events, want 3: %+v", len(events), events)
	}
	oneStatement := events[2] // newest first
	for _, e := range events[:2] {
		if auditFields(e) != auditFields(oneStatement) {
			t.Fatalf("audit rows differ:\n one statement %+v\n transaction   %+v", oneStatement, e)
		}
	}
	if oneStatement.Event != auth.EventTokenRefreshed || oneStatement.Username == "" || oneStatement.SessionID == nil || *oneStatement.SessionID != fresh.SessionID ||
		oneStatement.Ip != client.IP || oneStatement.UserAgent != client.UserAgent || oneStatement.Actor != client.Actor {
		t.Fatalf("audit row %+v", oneStatement)
	}
}

func TestRefreshRefusedGrantKeepsToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	// No grace: a token consumed by the refused attempt would count as
	// reused on the next one and revoke the session.
	policies := auth.NewPolicies(pool, 15*time.Minute, time.Hour, nil)
	s := auth.NewSessions(pool, auth.SessionConfig{Idle: time.Hour, Max: time.Hour, Grace: 0, Policies: policies}, nil)
	q := db.New(pool)
	if _, err := q.InsertPolicy(ctx, db.InsertPolicyParams{Name: "short", Acl: []byte(`{"paths": {"/*/users/**": {}}}`), MaxTtl: 60}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		policy string
		max    time.Duration // configured for client-sdk, stored for short
		ask    time.Duration
	}{
		{auth.ClientSDK, time.Hour, 2 * time.Hour},
		{"short", time.Minute, 2 * time.Minute},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			user := newUser(t, pool, true)
			if _, err := q.SetUserPolicy(ctx, db.SetUserPolicyParams{ID: user, Policy: tc.policy}); err != nil {
				t.Fatal(err)
			}
			r0, err := s.Start(ctx, user, auth.Origin{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Refresh(ctx, r0, func(pol auth.Policy) error {
				_, _, err := policies.Grant(pol, tc.ask, nil)
				return err
			})
			if sdkauth.ErrorCode(err) != sdkauth.CodeValidation || !slices.Equal(fieldNames(err), []string{"ttl"}) {
				t.Fatalf("ttl over the policy's maximum: got %v", err)
			}
			r, err := s.Refresh(ctx, r0, nil)
			if err != nil {
				t.Fatalf("the token after a refused grant: %v", err)
			}
			if pol := r.Policy; pol.Name != tc.policy || pol.MaxTTL != tc.max {
				t.Fatalf("policy = %+v; want %s with max %v", pol, tc.policy, tc.max)
			}
		})
	}
}

// auditFields is what an audit row records, less its id and time.
func auditFields(e db.AuditLog) string {
	id := func(p *uuid.UUID) string {
		if p == nil {
			return "<nil>"
		}
		return p.String()
	}
	return fmt.Sprintf("%s %s %s %s %s %s %s %s %s", e.Event, id(e.UserID), e.Username, id(e.SessionID), e.Ip, e.UserAgent, e.Reason, e.Detail, e.Actor)
}

// TestConcurrentRefreshOneStatementThenGrace is TestConcurrentRefreshKeepsOneSession
// seen from the wire: one statement rotates the token, and every other
// request, having waited for its row lock, come after, or come in the same
// group, finds it rotated and takes the transaction's grace path.
func TestConcurrentRefreshOneStatementThenGrace(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	pool := tracedPool(t, rec)
	ctx := context.Background()
	s := auth.NewSessions(pool, testSessions, nil)
	r0, err := s.Start(ctx, newUser(t, pool, true), auth.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	rec.take()
	const n = 20
	var wg sync.WaitGroup
	sessions := make(chan uuid.UUID, n)
	for range n {
		wg.Go(func() {
			r, err := s.Refresh(ctx, r0, nil)
			if err != nil {
				t.Errorf("concurrent refresh: %v", err)
			}
			sessions <- r.SessionID
		})
	}
	wg.Wait()
	close(sessions)
	first := <-sessions
	for id := range sessions {
		if id != first {
			t.Fatalf("refreshes landed in sessions %v and %v", first, id)
		}
	}
	var statements, transactions int
	for _, name := range rec.take() {
		switch name {
		case "RotateFreshRefreshTokens":
			statements++
		case "begin":
			transactions++
		}
	}
	// Each request is in one statement, which it shares with the others of
	// the moment.
	if statements < 1 || statements > n || transactions != n-1 {
		t.Fatalf("%d statements and %d transactions, want 1 to %d and %d", statements, transactions, n, n-1)
	}
}

// Fresh refreshes of different sessions that arrive together share
// statements, yet each request gets its own session, user and next token, and
// each audit row names its own request's client.
func TestConcurrentRefreshesOfManySessionsShareStatements(t *testing.T) {
	t.Parallel()
	rec := &statements{}
	pool := tracedPool(t, rec)
	ctx := context.Background()
	s := auth.NewSessions(pool, testSessions, auth.NewAudit(pool, slog.New(slog.DiscardHandler)))
	const n = 100
	users := make([]uuid.UUID, n)
	tokens := make([]string, n)
	for i := range n {
		users[i] = newUser(t, pool, true)
		var err error
		if tokens[i], err = s.Start(ctx, users[i], auth.Origin{}); err != nil {
			t.Fatal(err)
		}
	}
	rec.take()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			rctx := auth.WithOrigin(ctx, auth.Origin{IP: fmt.Sprintf("192.0.2.%d", i), UserAgent: "agent", Actor: ""})
			r, err := s.Refresh(rctx, tokens[i], nil)
			if err != nil {
				t.Errorf("refresh %d: %v", i, err)
				return
			}
			if r.User.ID != users[i] || r.RefreshToken == "" {
				t.Errorf("refresh %d got user %v, want %v", i, r.User.ID, users[i])
			}
			// The new token is live and belongs to the same user.
			again, err := s.Refresh(rctx, r.RefreshToken, nil)
			if err != nil || again.User.ID != users[i] || again.SessionID != r.SessionID {
				t.Errorf("refresh %d with its new token: %+v, %v", i, again, err)
			}
		})
	}
	close(start)
	wg.Wait()

	var statements, transactions int
	for _, name := range rec.take() {
		switch name {
		case "RotateFreshRefreshTokens":
			statements++
		case "begin":
			transactions++
		}
	}
	if statements >= 2*n || transactions != 0 {
		t.Fatalf("%d statements and %d transactions for %d fresh refreshes, want fewer statements than refreshes and no transaction", statements, transactions, 2*n)
	}
	for i, u := range users {
		ip := fmt.Sprintf("192.0.2.%d", i)
		rows := len(auditRows(t, pool, func(e db.AuditLog) bool {
			return e.UserID != nil && *e.UserID == u && e.Ip == ip && e.Event == auth.EventTokenRefreshed
		}))
		if rows != 2 {
			t.Fatalf("user %d: %d refresh audit rows from %s, want 2", i, rows, ip)
		}
	}
}

// syncBuffer is a bytes.Buffer that a logger and the test may share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A group whose statement fails (here: it cannot get the token's row lock)
// is logged, each of its refreshes is retried in a transaction, and the
// token is left as it was.
func TestFailedRefreshGroupIsLoggedAndLeavesTheToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(dbtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = "100ms"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var logs syncBuffer
	sc := testSessions
	sc.Log = slog.New(slog.NewTextHandler(&logs, nil))
	s := auth.NewSessions(pool, sc, nil)
	tok, err := s.Start(ctx, newUser(t, pool, true), auth.Origin{})
	if err != nil {
		t.Fatal(err)
	}

	hash := sha256.Sum256([]byte(tok))
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.New(tx).LockRefreshToken(ctx, hash[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(ctx, tok, nil); err == nil {
		t.Fatal("a refresh of a locked token succeeded")
	}
	if !strings.Contains(logs.String(), "a group of refreshes failed") || strings.Contains(logs.String(), tok) {
		t.Fatalf("log = %q, want the failed group reported, without the token", logs.String())
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Refresh(ctx, tok, nil); err != nil || r.RefreshToken == "" {
		t.Fatalf("the token after the failure: %+v, %v", r, err)
	}
}

// A group that presents one token twice rotates it once, for its first
// position, and still rotates the group's other tokens: the second request
// is left to the transaction and its grace rules, and its next token was
// never stored.
func TestRotationGroupWithATokenTwice(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	s := auth.NewSessions(pool, testSessions, nil)
	a, err := s.Start(ctx, newUser(t, pool, true), auth.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Start(ctx, newUser(t, pool, true), auth.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.RotateGroup([][2]string{{a, "next-a-first"}, {a, "next-a-second"}, {b, "next-b"}, {"unknown", "next-unknown"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, false, true, false}; !slices.Equal(got, want) {
		t.Fatalf("rotated %v, want %v", got, want)
	}
	for _, next := range []string{"next-a-first", "next-b"} {
		if _, err := s.Refresh(ctx, next, nil); err != nil {
			t.Errorf("refresh with the stored next token %q: %v", next, err)
		}
	}
	for _, never := range []string{"next-a-second", "next-unknown"} {
		if _, err := s.Refresh(ctx, never, nil); sdkauth.ErrorCode(err) != sdkauth.CodeInvalidGrant {
			t.Errorf("refresh with %q, never stored: %v, want invalid_grant", never, err)
		}
	}
}
