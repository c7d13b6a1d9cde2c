package auth

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/db"
)

// AuditEntry is one row of the audit log as admins read it.
type AuditEntry struct {
	ID       int64
	At       time.Time
	Event    string
	UserID   uuid.UUID // uuid.Nil when no user is known
	Username string
	IP       string
	Reason   string
	Detail   string
	// Actor is the service client that acted ("client:<id>"), or empty
	// for an end user's own request.
	Actor string
}

// AuditQuery narrows a search of the audit log; a zero field does not
// narrow it.
type AuditQuery struct {
	// User is a user id or an exact username.
	User, Event, Actor string
	// Since and Until bound the time: Since <= at < Until.
	Since, Until time.Time
	// Before is the id of the last entry of the previous page.
	Before   int64
	PageSize int
}

// Search returns a page of the audit log, newest first, and whether older
// entries match too. It returns only the database's errors.
func (a *Audit) Search(ctx context.Context, q AuditQuery) (page []AuditEntry, more bool, err error) {
	p := db.SearchAuditLogParams{
		Event:   optional(q.Event),
		Actor:   optional(q.Actor),
		MaxRows: int32(q.PageSize) + 1,
	}
	if id, err := uuid.Parse(q.User); err == nil {
		p.UserID = &id
	} else {
		p.Username = optional(q.User)
	}
	if q.Before > 0 {
		p.BeforeID = &q.Before
	}
	if !q.Since.IsZero() {
		p.Since = &q.Since
	}
	if !q.Until.IsZero() {
		p.Until = &q.Until
	}
	rows, err := db.New(a.pool).SearchAuditLog(ctx, p)
	if err != nil {
		return nil, false, err
	}
	if more = len(rows) > q.PageSize; more {
		rows = rows[:q.PageSize]
	}
	page = make([]AuditEntry, len(rows))
	for i, r := range rows {
		page[i] = AuditEntry{ID: r.ID, At: r.At, Event: r.Event, Username: r.Username, IP: r.Ip, Reason: r.Reason, Detail: r.Detail, Actor: r.Actor}
		if r.UserID != nil {
			page[i].UserID = *r.UserID
		}
	}
	return page, more, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
