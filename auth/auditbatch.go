package auth

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/db"
)

// maxAuditBatch bounds one round trip's worth of audit rows.
const maxAuditBatch = 256

// newAuditBatcher commits audit rows written outside a transaction in
// groups (see groupCommit): each writer waits until its row is durable, so
// nothing is lost on a crash, but concurrent requests share one commit.
func newAuditBatcher(pool *pgxpool.Pool) *groupCommit[db.InsertAuditEventsParams, struct{}] {
	return &groupCommit[db.InsertAuditEventsParams, struct{}]{
		max:      maxAuditBatch,
		inFlight: 1,
		flush: func(rows []db.InsertAuditEventsParams) ([]struct{}, error) {
			return make([]struct{}, len(rows)), flushAudit(pool, rows)
		},
	}
}

// flushAudit writes a group in one round trip; pgx sends a batch with one
// Sync, so Postgres runs it as one implicit transaction.
func flushAudit(pool *pgxpool.Pool, rows []db.InsertAuditEventsParams) error {
	var first error
	res := db.New(pool).InsertAuditEvents(context.Background(), rows)
	res.Exec(func(_ int, err error) {
		if err != nil && first == nil {
			first = err
		}
	})
	if err := res.Close(); err != nil && first == nil {
		first = err
	}
	return first
}
