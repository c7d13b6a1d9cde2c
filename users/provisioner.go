package users

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/vonage"
)

// Job kinds in the provisioning outbox.
const (
	JobCreate = "create"
	JobUpdate = "update"
	JobDelete = "delete"
)

// OwnerKey is the custom_data key on a Vonage user that names the local user
// it belongs to, so ownership is visible remotely and a crash between the
// remote create and the local commit can be recovered from.
const OwnerKey = "sdkauth_user_id"

// Provisioner carries local user changes to the Vonage Users API through the
// provisioning outbox. It never holds a transaction open across an upstream
// call. When Vonage answers with Retry-After, the Provisioner makes no call
// at all until that time has passed (Vonage's limits are per account, not
// per user), and the job that got the answer waits at least as long.
type Provisioner struct {
	pool    *pgxpool.Pool
	vonage  *vonage.Client
	timeout time.Duration
	log     *slog.Logger
	audit   *auth.Audit

	holdUntil atomic.Int64 // unix nanoseconds; no call to Vonage before
	wake      chan struct{}
	metrics   metrics
}

// NewProvisioner returns a Provisioner whose inline attempts give up after
// timeout (SDKAUTH_PROVISION_TIMEOUT) and that records the names it finds
// taken at Vonage in audit (which may be nil).
func NewProvisioner(pool *pgxpool.Pool, client *vonage.Client, timeout time.Duration, log *slog.Logger, audit *auth.Audit) *Provisioner {
	return &Provisioner{pool: pool, vonage: client, timeout: timeout, log: log, audit: audit, wake: make(chan struct{}, 1)}
}

// Nudge tells this process's worker that a job is due now, so that a
// profile change or a deletion reaches Vonage without waiting for the next
// poll. Other replicas find the job on their next poll.
func (p *Provisioner) Nudge() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// enqueue adds a job inside the caller's transaction, to run after delay.
func enqueue(ctx context.Context, q *db.Queries, userID uuid.UUID, kind string, payload []byte, delay time.Duration) (int64, error) {
	if payload == nil {
		payload = []byte(`{}`)
	}
	return q.CreateProvisioningJob(ctx, db.CreateProvisioningJobParams{
		UserID:       userID,
		Kind:         kind,
		Payload:      payload,
		DelaySeconds: delay.Seconds(),
	})
}

// inlineDelay is when a job that a request is about to try inline first
// comes due for the worker: after the inline attempt's deadline, so the two
// do not race.
func (p *Provisioner) inlineDelay() time.Duration { return p.timeout + 5*time.Second }

// Provision creates the Vonage user for row inline, within the provisioning
// timeout, completing job jobID. See create for what it returns.
func (p *Provisioner) Provision(ctx context.Context, row db.User, jobID int64) (db.User, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	return p.create(ctx, row, jobID, 0, true)
}

// create makes the Vonage user for row and marks row provisioned,
// completing job jobID, which has failed attempts times before. A duplicate
// name at Vonage is adopted only when the remote user names row as its
// owner (our own earlier attempt that crashed before its commit); otherwise
// the name belongs to someone else and CodeUsernameTaken is returned: for a
// new user (fresh) the local user and its jobs are removed, so a refused
// sign-up leaves nothing behind; a user re-created by reconcile is kept,
// still pending, for a person to sort out. Any other failure is recorded on
// the job for a retry and returned, with row unchanged.
func (p *Provisioner) create(ctx context.Context, row db.User, jobID int64, attempts int32, fresh bool) (db.User, error) {
	if err := p.gate(); err != nil {
		p.fail(ctx, jobID, JobCreate, attempts, err)
		return row, err
	}
	remote, err := p.vonage.CreateUser(ctx, vonage.User{
		Name:        row.Username,
		DisplayName: row.DisplayName,
		ImageURL:    row.ImageUrl,
		Properties:  &vonage.UserProperties{CustomData: map[string]any{OwnerKey: row.ID.String()}},
	})
	p.observe(err)
	if vonage.HasCode(err, vonage.CodeDuplicateName) {
		remote, err = p.adopt(ctx, row)
		p.observe(err)
		if sdkauth.ErrorCode(err) == sdkauth.CodeUsernameTaken {
			p.audit.Record(ctx, auth.Event{Type: auth.EventUsernameTaken, UserID: row.ID, Username: row.Username})
			if !fresh {
				p.fail(ctx, jobID, JobCreate, max(attempts, 9), err)
				return row, err
			}
			return row, p.discard(context.WithoutCancel(ctx), row.ID, err)
		}
	}
	if err != nil {
		p.fail(ctx, jobID, JobCreate, attempts, err)
		return row, err
	}
	var out db.User
	ctx = context.WithoutCancel(ctx)
	err = db.WithTx(ctx, p.pool, func(q *db.Queries) error {
		var err error
		out, err = q.MarkUserProvisioned(ctx, db.MarkUserProvisionedParams{ID: row.ID, VonageUserID: &remote.ID})
		if db.IsNotFound(err) {
			// Deleted while we created it: the user's delete job, queued
			// behind this one, finds the remote user by name and removes it.
			out = row
			return q.DeleteProvisioningJob(ctx, jobID)
		}
		if err != nil {
			return err
		}
		return q.DeleteProvisioningJob(ctx, jobID)
	})
	if err != nil {
		return row, err
	}
	p.metrics.succeeded.Add(1)
	return out, nil
}

// adopt looks up the Vonage user holding row's name and returns it when it
// is ours; otherwise it returns CodeUsernameTaken.
func (p *Provisioner) adopt(ctx context.Context, row db.User) (vonage.User, error) {
	remote, err := p.findByName(ctx, row.Username)
	if vonage.IsNotFound(err) {
		// Deleted between our create and our look-up: let a retry create it.
		return vonage.User{}, errors.New("vonage reported a duplicate name that no longer exists")
	}
	if err != nil {
		return vonage.User{}, err
	}
	if ownerOf(remote) == row.ID.String() {
		p.log.InfoContext(ctx, "adopted the Vonage user our earlier attempt created", "user_id", row.ID, "vonage_user_id", remote.ID)
		return remote, nil
	}
	return vonage.User{}, errUsernameTaken()
}

// findByName returns the Vonage user called name with its properties: a
// listing shows only a summary of each user, so the user is read in full.
// It returns an error for which vonage.IsNotFound is true when there is none.
func (p *Provisioner) findByName(ctx context.Context, name string) (vonage.User, error) {
	summary, err := p.vonage.FindUserByName(ctx, name)
	if err != nil {
		return summary, err
	}
	return p.vonage.GetUser(ctx, summary.ID)
}

// ownerOf returns the local user id a Vonage user names as its owner, or "".
func ownerOf(u vonage.User) string {
	if u.Properties == nil {
		return ""
	}
	s, _ := u.Properties.CustomData[OwnerKey].(string)
	return s
}

// discard removes a local user whose name is taken at Vonage, with its
// sessions and jobs, so a failed sign-up leaves nothing behind, and returns
// cause.
func (p *Provisioner) discard(ctx context.Context, id uuid.UUID, cause error) error {
	err := db.WithTx(ctx, p.pool, func(q *db.Queries) error {
		if err := q.DeleteProvisioningJobsOfUser(ctx, id); err != nil {
			return err
		}
		return q.DeleteUser(ctx, id)
	})
	if err != nil {
		p.log.ErrorContext(ctx, "removing a user whose name is taken at Vonage", "user_id", id, "err", err)
	}
	return cause
}

// complete deletes a finished job.
func (p *Provisioner) complete(ctx context.Context, jobID int64) error {
	if err := db.New(p.pool).DeleteProvisioningJob(context.WithoutCancel(ctx), jobID); err != nil {
		return err
	}
	p.metrics.succeeded.Add(1)
	return nil
}

// fail records a failed attempt: the job runs again after exponential
// backoff with jitter, and never before a Retry-After that Vonage sent.
func (p *Provisioner) fail(ctx context.Context, jobID int64, kind string, attempts int32, cause error) {
	p.metrics.failed(kind)
	delay := Backoff(int(attempts))
	if wait := p.held(); wait > delay {
		// Retry-After is a floor; a little jitter on top keeps the jobs it
		// held back from all coming due in the same instant.
		delay = wait + rand.N(wait/4+1)
	}
	err := db.New(p.pool).RecordProvisioningFailure(context.WithoutCancel(ctx), db.RecordProvisioningFailureParams{
		ID:           jobID,
		DelaySeconds: delay.Seconds(),
		LastError:    truncate(cause.Error(), 1000),
	})
	if err != nil {
		p.log.ErrorContext(ctx, "recording a provisioning failure", "job_id", jobID, "err", err)
	}
	p.log.WarnContext(ctx, "provisioning attempt failed", "job_id", jobID, "kind", kind, "attempts", attempts+1, "retry_in", delay, "err", cause)
}

// errHeld is returned instead of calling Vonage while a Retry-After holds.
type errHeld struct{ wait time.Duration }

func (e errHeld) Error() string {
	return fmt.Sprintf("not calling Vonage for another %s: it asked us to wait (Retry-After)", e.wait.Round(time.Millisecond))
}

// gate counts an attempt, or returns errHeld while Vonage's Retry-After holds.
func (p *Provisioner) gate() error {
	if wait := p.held(); wait > 0 {
		return errHeld{wait}
	}
	p.metrics.attempts.Add(1)
	return nil
}

// held is how long this process must still wait before calling Vonage.
func (p *Provisioner) held() time.Duration {
	return max(0, time.Until(time.Unix(0, p.holdUntil.Load())))
}

// observe extends the hold when err carries a Retry-After.
func (p *Provisioner) observe(err error) {
	var ve *vonage.Error
	if !errors.As(err, &ve) || ve.RetryAfter <= 0 {
		return
	}
	until := time.Now().Add(ve.RetryAfter).UnixNano()
	for {
		cur := p.holdUntil.Load()
		if cur >= until || p.holdUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// Backoff returns the delay before retry number attempt (0-based):
// exponential from 1 s, capped at 5 min, with full jitter on the upper half.
func Backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt, 0), 9)
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	return d/2 + rand.N(d/2+1)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
