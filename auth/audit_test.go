package auth_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db/dbtest"
)

// Concurrent records share commits, yet each Record returns only once its
// own row is stored.
func TestConcurrentRecordsAreEachStoredWhenRecordReturns(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.New(t)
	a := auth.NewAudit(pool, slog.New(slog.DiscardHandler))
	const n = 300
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx := auth.WithClient(ctx, auth.Client{IP: "192.0.2.1", Actor: "client:test"})
			a.Record(rctx, auth.Event{Type: auth.EventAdminTokenIssued, Detail: fmt.Sprintf("n=%d", i)})
			var stored int
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM audit_log WHERE detail = $1", fmt.Sprintf("n=%d", i)).Scan(&stored); err != nil || stored != 1 {
				t.Errorf("record %d: stored %d times when Record returned (%v)", i, stored, err)
			}
		}()
	}
	wg.Wait()
	var rows, distinct int
	if err := pool.QueryRow(ctx, "SELECT count(*), count(DISTINCT detail) FROM audit_log WHERE actor = 'client:test' AND ip = '192.0.2.1'").Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n {
		t.Fatalf("%d rows, %d distinct, want %d", rows, distinct, n)
	}
}
