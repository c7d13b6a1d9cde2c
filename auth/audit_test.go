package auth_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

// Concurrent records share commits, yet each Record returns only once its
// own row is stored.
func TestConcurrentRecordsAreEachStoredWhenRecordReturns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	a := auth.NewAudit(pool, slog.New(slog.DiscardHandler))
	user, session := uuid.New(), uuid.New()
	const n = 300
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx := auth.WithOrigin(ctx, auth.Origin{IP: "192.0.2.1", Actor: "client:test"})
			a.Record(rctx, auth.Event{Type: auth.EventAdminTokenIssued, Detail: fmt.Sprintf("n=%d", i)})
			if i%10 == 0 {
				// Some rows name a user and a session, which are kept.
				a.Record(rctx, auth.Event{Type: auth.EventLogout, UserID: user, SessionID: session, Username: "a-user", Detail: fmt.Sprintf("u=%d", i)})
			}
			detail := fmt.Sprintf("n=%d", i)
			if stored := len(auditRows(t, pool, func(e db.AuditLog) bool { return e.Detail == detail })); stored != 1 {
				t.Errorf("record %d: stored %d times when Record returned", i, stored)
			}
		}()
	}
	wg.Wait()
	// No user and no session are stored as NULL, not as the zero UUID.
	anonymous := auditRows(t, pool, func(e db.AuditLog) bool {
		return e.Actor == "client:test" && e.Ip == "192.0.2.1" && e.UserID == nil && e.SessionID == nil
	})
	details := map[string]bool{}
	for _, e := range anonymous {
		details[e.Detail] = true
	}
	if rows, distinct := len(anonymous), len(details); rows != n || distinct != n {
		t.Fatalf("%d rows, %d distinct, want %d", rows, distinct, n)
	}
	named := auditRows(t, pool, func(e db.AuditLog) bool {
		return e.UserID != nil && *e.UserID == user && e.SessionID != nil && *e.SessionID == session && e.Username == "a-user"
	})
	if len(named) != n/10 {
		t.Fatalf("%d rows naming the user and session, want %d", len(named), n/10)
	}
}

// The retention sweep deletes only rows older than the retention, in
// batches, and one Sweep stops after MaxBatches of them.
func TestSweepDeletesOnlyOldAuditRowsInBatches(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	a := auth.NewAudit(pool, slog.New(slog.DiscardHandler))
	// 2,500 rows from 91 to 120 days ago, in time order as they would have
	// been written, and rows just inside the retention and from now.
	const day = 24 * 60 * 60
	q := db.New(pool)
	if err := q.InsertPastAuditRows(ctx, db.InsertPastAuditRowsParams{AgoSeconds: 120 * day, StepSeconds: 60, Event: "login_failed", Detail: "old", N: 2500}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertPastAuditRows(ctx, db.InsertPastAuditRowsParams{AgoSeconds: 89*day + 1, StepSeconds: 1, Event: "signup", Detail: "kept", N: 1}); err != nil {
		t.Fatal(err)
	}
	for range 30 {
		a.Record(ctx, auth.Event{Type: auth.EventLoginSucceeded, Detail: "kept"})
	}
	count := func(detail string) int {
		return len(auditRows(t, pool, func(e db.AuditLog) bool { return e.Detail == detail }))
	}
	r := auth.Retention{Keep: 90 * 24 * time.Hour, Batch: 1000, MaxBatches: 2}
	for i, want := range []int64{2000, 500, 0} {
		n, err := a.Sweep(ctx, r)
		if err != nil || n != want {
			t.Fatalf("sweep %d deleted %d (%v), want %d", i+1, n, err, want)
		}
	}
	if old, kept := count("old"), count("kept"); old != 0 || kept != 31 {
		t.Fatalf("after sweeping: %d old rows left, %d recent rows of 31", old, kept)
	}
}

// auditRows returns the audit rows, in the order written, that keep holds for.
func auditRows(t *testing.T, pool *pgxpool.Pool, keep func(db.AuditLog) bool) []db.AuditLog {
	t.Helper()
	all, err := db.New(pool).AllAuditEvents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []db.AuditLog
	for _, e := range all {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}
