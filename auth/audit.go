package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth/db"
)

// Audit event names, as stored in audit_log.event. Operators query on
// them; never rename one.
const (
	EventSignup             = "signup"
	EventLoginSucceeded     = "login_succeeded"
	EventLoginFailed        = "login_failed"
	EventTokenRefreshed     = "token_refreshed"
	EventRefreshTokenReused = "refresh_token_reused"
	EventLogout             = "logout"
	EventPasswordChanged    = "password_changed"
	EventPasswordFailed     = "password_check_failed"
	EventProfileUpdated     = "profile_updated"
	EventUserDeleted        = "user_deleted"
	EventUsernameTaken      = "username_taken_at_vonage"

	// Admin and service-client events; the acting client is in the actor
	// column.
	EventUserCreated         = "user_created"
	EventUserUpdated         = "user_updated"
	EventSessionsRevoked     = "sessions_revoked"
	EventUserTokenIssued     = "user_token_issued"
	EventUsersImported       = "users_imported"
	EventAdminTokenIssued    = "admin_token_issued"
	EventClientCreated       = "client_created"
	EventClientSecretRotated = "client_secret_rotated"
	EventClientDeleted       = "client_deleted"
	EventClientAuthFailed    = "client_auth_failed"
	// A failed provisioning job put back in line (admin API or reconcile).
	EventProvisioningJobRetried = "provisioning_job_retried"
	// A signing key rotation, by `sdkauth keys rotate` or the console.
	EventKeyRotated = "key_rotated"
)

// Reasons a password check failed, as stored in audit_log.reason. The
// client is never told which one applied.
const (
	ReasonUnknownUser     = "unknown_user"
	ReasonWrongPassword   = "wrong_password"
	ReasonDisabled        = "disabled"
	ReasonRateLimitedIP   = "rate_limited_ip"
	ReasonAccountDelayed  = "account_delayed"
	ReasonHashingBusy     = "hashing_busy"
	ReasonMalformedHash   = "malformed_hash"
	ReasonScopeSession    = "session"
	ReasonScopeGlobal     = "global"
	ReasonPasswordChanged = "password_changed"
)

// Event is one audit record. The caller's IP and user agent come from the
// context (see WithOrigin). It has no field for a secret, on purpose.
type Event struct {
	Type      string
	UserID    uuid.UUID // uuid.Nil when no user is known
	Username  string
	SessionID uuid.UUID // uuid.Nil when no session applies
	Reason    string
	Detail    string
}

// Audit writes the audit log to Postgres. A nil *Audit records nothing, so
// tools and tests that do not care need not wire one.
type Audit struct {
	pool  *pgxpool.Pool
	log   *slog.Logger
	batch *groupCommit[db.InsertAuditEventParams, struct{}]
}

// NewAudit returns an Audit writing through pool; failures to write are
// logged on log.
func NewAudit(pool *pgxpool.Pool, log *slog.Logger) *Audit {
	return &Audit{pool: pool, log: log, batch: newAuditBatcher(pool)}
}

// Record writes ev on its own and returns once it is committed; rows
// recorded at the same moment share a commit (see newAuditBatcher). An audit
// row is a record, not a gate: a failure to write it is logged and the
// request goes on.
func (a *Audit) Record(ctx context.Context, ev Event) {
	if a == nil {
		return
	}
	if _, err := a.batch.do(a.row(ctx, ev)); err != nil {
		a.log.ErrorContext(ctx, "writing an audit event", "event", ev.Type, "user_id", ev.UserID, "err", err)
	}
}

// Require records ev like Record but returns the error when the row could
// not be stored, for actions that must not take effect without their record:
// a token whose issue is not in the audit log is not handed out.
func (a *Audit) Require(ctx context.Context, ev Event) error { return a.Start(ctx, ev)() }

// Start begins Require and returns a function that waits for it and returns
// its error. Work done in between, such as signing the token the row
// records, overlaps the row's round trip and commit.
func (a *Audit) Start(ctx context.Context, ev Event) (wait func() error) {
	if a == nil {
		return func() error { return nil }
	}
	stored := a.batch.start(a.row(ctx, ev))
	return func() error {
		if _, err := stored(); err != nil {
			return fmt.Errorf("writing the audit event %s: %w", ev.Type, err)
		}
		return nil
	}
}

// RecordTx writes ev through q, inside the caller's transaction, so that a
// change and its record commit together. It returns the database's error.
func (a *Audit) RecordTx(ctx context.Context, q *db.Queries, ev Event) error {
	if a == nil {
		return nil
	}
	return q.InsertAuditEvent(ctx, a.row(ctx, ev))
}

// RecordManyTx writes evs through q in one statement, inside the caller's
// transaction (a batch of an import and its records commit together). It
// returns the database's error.
func (a *Audit) RecordManyTx(ctx context.Context, q *db.Queries, evs []Event) error {
	if a == nil || len(evs) == 0 {
		return nil
	}
	rows := make([]db.InsertAuditEventParams, len(evs))
	for i, ev := range evs {
		rows[i] = a.row(ctx, ev)
	}
	return q.InsertAuditEventRows(ctx, rowArrays(rows))
}

// row is ev as stored, with the caller's IP, user agent and actor.
func (a *Audit) row(ctx context.Context, ev Event) db.InsertAuditEventParams {
	from := OriginFrom(ctx)
	return db.InsertAuditEventParams{
		Event:     ev.Type,
		UserID:    optionalID(ev.UserID),
		Username:  Truncate(ev.Username, 200),
		SessionID: optionalID(ev.SessionID),
		Ip:        from.IP,
		UserAgent: Truncate(from.UserAgent, 512),
		Reason:    ev.Reason,
		Detail:    Truncate(ev.Detail, 1000),
		Actor:     from.Actor,
	}
}

func optionalID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// Retention says which audit rows Sweep deletes and how.
type Retention struct {
	// Keep is how long rows are kept (SDKAUTH_AUDIT_RETENTION).
	Keep time.Duration
	// Batch is how many rows one DELETE removes (1000), each in its own
	// short transaction, so no lock is held for long.
	Batch int
	// MaxBatches bounds one Sweep (100); a longer backlog is left for the
	// next sweep, a minute later.
	MaxBatches int
}

// Sweep deletes audit rows older than r.Keep, in batches, and returns how
// many it deleted. It returns the database's error, with the count so far.
func (a *Audit) Sweep(ctx context.Context, r Retention) (int64, error) {
	if r.Batch <= 0 {
		r.Batch = 1000
	}
	if r.MaxBatches <= 0 {
		r.MaxBatches = 100
	}
	cutoff := time.Now().Add(-r.Keep)
	since := time.Time{} // the BRIN scan starts where the last batch ended
	var total int64
	q := db.New(a.pool)
	for range r.MaxBatches {
		res, err := q.SweepAuditLog(ctx, db.SweepAuditLogParams{Since: since, Cutoff: cutoff, MaxRows: int32(r.Batch)})
		if err != nil {
			return total, err
		}
		total += res.Deleted
		if res.Deleted < int64(r.Batch) {
			break
		}
		since = res.Newest
	}
	return total, nil
}
