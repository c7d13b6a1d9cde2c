package auth

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/db"
)

// maxAuditBatch bounds one statement's worth of audit rows.
const maxAuditBatch = 256

// newAuditBatcher commits audit rows written outside a transaction in
// groups (see groupCommit): each writer waits until its row is durable, so
// nothing is lost on a crash, but concurrent requests share one statement
// and one commit.
func newAuditBatcher(pool *pgxpool.Pool) *groupCommit[db.InsertAuditEventParams, struct{}] {
	return &groupCommit[db.InsertAuditEventParams, struct{}]{
		max:      maxAuditBatch,
		inFlight: 1,
		flush: func(rows []db.InsertAuditEventParams) ([]struct{}, error) {
			return make([]struct{}, len(rows)), flushAudit(pool, rows)
		},
	}
}

// flushAudit writes a group as one multi-row INSERT: one round trip, one
// executor start-up and one commit however many rows there are.
func flushAudit(pool *pgxpool.Pool, rows []db.InsertAuditEventParams) error {
	return db.New(pool).InsertAuditEventRows(context.Background(), rowArrays(rows))
}

// rowArrays turns rows into the column arrays of InsertAuditEventRows.
func rowArrays(rows []db.InsertAuditEventParams) db.InsertAuditEventRowsParams {
	n := len(rows)
	p := db.InsertAuditEventRowsParams{
		Events: make([]string, n), UserIds: make([]uuid.UUID, n), Usernames: make([]string, n),
		SessionIds: make([]uuid.UUID, n), Ips: make([]string, n), UserAgents: make([]string, n),
		Reasons: make([]string, n), Details: make([]string, n), Actors: make([]string, n),
	}
	for i, r := range rows {
		p.Events[i], p.Usernames[i], p.Ips[i], p.UserAgents[i] = r.Event, r.Username, r.Ip, r.UserAgent
		p.Reasons[i], p.Details[i], p.Actors[i] = r.Reason, r.Detail, r.Actor
		if r.UserID != nil {
			p.UserIds[i] = *r.UserID
		}
		if r.SessionID != nil {
			p.SessionIds[i] = *r.SessionID
		}
	}
	return p
}
