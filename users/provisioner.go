package users

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
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
// call. When Vonage answers with Retry-After, no replica makes any call at
// all until that time has passed (Vonage's limits are per account, not per
// user; see hold), and the job that got the answer waits at least as long.
// A job that Vonage refuses for good, or that has failed MaxAttempts times,
// ends as failed and waits for a person (see RetryJob).
type Provisioner struct {
	pool        *pgxpool.Pool
	vonage      *vonage.Client
	timeout     time.Duration
	maxAttempts int
	log         *slog.Logger
	audit       *auth.Audit

	hold    *hold
	wake    chan struct{}
	metrics metrics
}

// DefaultMaxAttempts is how many times a job is tried before it ends as
// failed, unless configured: with the backoff's 5-minute cap, about 45
// minutes of trying.
const DefaultMaxAttempts = 20

// ProvisionerConfig is what a Provisioner is built from.
type ProvisionerConfig struct {
	Pool   *pgxpool.Pool
	Vonage *vonage.Client
	// Timeout bounds inline attempts (SDKAUTH_PROVISION_TIMEOUT).
	Timeout time.Duration
	// MaxAttempts is how many attempts a job gets before it ends as failed
	// (SDKAUTH_PROVISIONING_MAX_ATTEMPTS); 0 means DefaultMaxAttempts.
	MaxAttempts int
	Log         *slog.Logger
	// Audit records names found taken at Vonage and retried jobs; nil
	// records nothing.
	Audit *auth.Audit
}

// NewProvisioner returns a Provisioner.
func NewProvisioner(c ProvisionerConfig) *Provisioner {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	return &Provisioner{pool: c.Pool, vonage: c.Vonage, timeout: c.Timeout, maxAttempts: c.MaxAttempts,
		log: c.Log, audit: c.Audit, hold: newHold(c.Pool, c.Log), wake: make(chan struct{}, 1)}
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
// its job failed, for a person to sort out. Any other failure is recorded
// on the job (see fail) and returned, with row unchanged but for its
// Provisioning, which is StateFailed once the job has ended.
func (p *Provisioner) create(ctx context.Context, row db.User, jobID int64, attempts int32, fresh bool) (db.User, error) {
	failed := func(err error) (db.User, error) {
		if p.fail(ctx, jobID, JobCreate, attempts, err) {
			row.Provisioning = StateFailed
		}
		return row, err
	}
	if err := p.gate(ctx); err != nil {
		return failed(err)
	}
	remote, err := p.vonage.CreateUser(ctx, vonage.User{
		Name:        row.Username,
		DisplayName: row.DisplayName,
		ImageURL:    row.ImageUrl,
		Properties:  &vonage.UserProperties{CustomData: map[string]any{OwnerKey: row.ID.String()}},
	})
	p.observe(ctx, err)
	if vonage.HasCode(err, vonage.CodeDuplicateName) {
		remote, err = p.adopt(ctx, row)
		p.observe(ctx, err)
		if sdkauth.ErrorCode(err) == sdkauth.CodeUsernameTaken {
			p.audit.Record(ctx, auth.Event{Type: auth.EventUsernameTaken, UserID: row.ID, Username: row.Username})
			if !fresh {
				// Retrying cannot help: the job ends for a person to decide.
				return failed(fmt.Errorf("the name is taken at Vonage by a user this sdkauth did not create for it: %w", err))
			}
			return row, p.discard(context.WithoutCancel(ctx), row.ID, err)
		}
	}
	if err != nil {
		return failed(err)
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

// fail records a failed attempt. A job that cannot succeed (see permanent)
// or has used its attempts ends as failed, and fail reports true; otherwise
// the job runs again after exponential backoff with jitter, and never
// before a Retry-After that Vonage sent.
func (p *Provisioner) fail(ctx context.Context, jobID int64, kind string, attempts int32, cause error) (ended bool) {
	p.metrics.failed(kind)
	ctx = context.WithoutCancel(ctx)
	var held errHeld
	if permanent(cause) || int(attempts)+1 >= p.maxAttempts && !errors.As(cause, &held) {
		err := db.New(p.pool).FailProvisioningJob(ctx, db.FailProvisioningJobParams{ID: jobID, LastError: lastError(cause)})
		if err != nil {
			p.log.ErrorContext(ctx, "recording a failed provisioning job", "job_id", jobID, "err", err)
			return false
		}
		p.log.ErrorContext(ctx, "provisioning job failed for good; retry it with POST /v1/admin/provisioning/jobs/{id}/retry or `sdkauth users reconcile --fix`",
			"job_id", jobID, "kind", kind, "attempts", attempts+1, "err", cause)
		return true
	}
	delay := Backoff(int(attempts))
	if wait := p.held(ctx); wait > delay {
		// Retry-After is a floor; a little jitter on top keeps the jobs it
		// held back from all coming due in the same instant.
		delay = wait + rand.N(wait/4+1)
	}
	err := db.New(p.pool).RecordProvisioningFailure(ctx, db.RecordProvisioningFailureParams{
		ID:           jobID,
		DelaySeconds: delay.Seconds(),
		LastError:    lastError(cause),
	})
	if err != nil {
		p.log.ErrorContext(ctx, "recording a provisioning failure", "job_id", jobID, "err", err)
	}
	p.log.WarnContext(ctx, "provisioning attempt failed", "job_id", jobID, "kind", kind, "attempts", attempts+1, "retry_in", delay, "err", cause)
	return false
}

// errHeld is returned instead of calling Vonage while a Retry-After holds.
type errHeld struct{ wait time.Duration }

func (e errHeld) Error() string {
	return fmt.Sprintf("not calling Vonage for another %s: it asked us to wait (Retry-After)", e.wait.Round(time.Millisecond))
}

// gate counts an attempt, or returns errHeld while Vonage's Retry-After
// holds on any replica.
func (p *Provisioner) gate(ctx context.Context) error {
	if wait := p.held(ctx); wait > 0 {
		return errHeld{wait}
	}
	p.metrics.attempts.Add(1)
	return nil
}

// held is how long every replica must still wait before calling Vonage.
func (p *Provisioner) held(ctx context.Context) time.Duration { return p.hold.remaining(ctx) }

// observe extends the hold, for every replica, when err carries a
// Retry-After.
func (p *Provisioner) observe(ctx context.Context, err error) {
	var ve *vonage.Error
	if errors.As(err, &ve) && ve.RetryAfter > 0 {
		p.hold.extend(ctx, ve.RetryAfter)
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
