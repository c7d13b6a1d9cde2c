package auth_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

// Concurrent records share commits, yet each Record returns only once its
// own row is stored.
func TestConcurrentRecordsAreEachStoredWhenRecordReturns(t *testing.T) {
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
			var stored int
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE detail = $1", fmt.Sprintf("n=%d", i)).Scan(&stored); err != nil || stored != 1 {
				t.Errorf("record %d: stored %d times when Record returned (%v)", i, stored, err)
			}
		}()
	}
	wg.Wait()
	var rows, distinct int
	// No user and no session are stored as NULL, not as the zero UUID.
	if err := pool.QueryRow(ctx, "SELECT count(*), count(DISTINCT detail) FROM audit_log WHERE actor = 'client:test' AND ip = '192.0.2.1' AND user_id IS NULL AND session_id IS NULL").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n {
		t.Fatalf("%d rows, %d distinct, want %d", rows, distinct, n)
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE user_id = $1 AND session_id = $2 AND username = 'a-user'", user, session).Scan(&rows); err != nil || rows != n/10 {
		t.Fatalf("%d rows naming the user and session (%v), want %d", rows, err, n/10)
	}
}

// The retention sweep deletes only rows older than the retention, in
// batches, and one Sweep stops after MaxBatches of them.
func TestSweepDeletesOnlyOldAuditRowsInBatches(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	a := auth.NewAudit(pool, slog.New(slog.DiscardHandler))
	// 2,500 rows from 91 to 120 days ago, in time order as they would have
	// been written, and rows just inside the retention and from now.
	if _, err := pool.Exec(ctx, `
		INSERT INTO audit_log (at, event, detail)
		SELECT now() - interval '120 days' + (i * interval '1 minute'), 'login_failed', 'old'
		FROM generate_series(1, 2500) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO audit_log (at, event, detail) VALUES (now() - interval '89 days', 'signup', 'kept')`); err != nil {
		t.Fatal(err)
	}
	for range 30 {
		a.Record(ctx, auth.Event{Type: auth.EventLoginSucceeded, Detail: "kept"})
	}
	count := func(detail string) int {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE detail = $1", detail).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
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
