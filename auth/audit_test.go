package auth_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

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
			rctx := auth.WithClient(ctx, auth.Client{IP: "192.0.2.1", Actor: "client:test"})
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
