package users

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sdkauth/sdkauth"
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

// Provisioner carries local user changes to the Vonage Users API. It never
// holds a transaction open across an upstream call.
type Provisioner struct {
	pool    *pgxpool.Pool
	vonage  *vonage.Client
	timeout time.Duration
	log     *slog.Logger
}

// NewProvisioner returns a Provisioner whose inline attempts give up after
// timeout.
func NewProvisioner(pool *pgxpool.Pool, client *vonage.Client, timeout time.Duration, log *slog.Logger) *Provisioner {
	return &Provisioner{pool: pool, vonage: client, timeout: timeout, log: log}
}

// enqueue adds a job inside the caller's transaction. Its first run is set
// after the inline attempt's deadline, so a background worker does not race
// the request that is provisioning the user right now.
func (p *Provisioner) enqueue(ctx context.Context, q *db.Queries, userID uuid.UUID, kind string) (int64, error) {
	return q.CreateProvisioningJob(ctx, db.CreateProvisioningJobParams{
		UserID:       userID,
		Kind:         kind,
		Payload:      []byte(`{}`),
		DelaySeconds: (p.timeout + 5*time.Second).Seconds(),
	})
}

// Provision creates the Vonage user for row and marks row provisioned,
// completing job jobID. A duplicate name at Vonage is adopted only when the
// remote user names row as its owner (our own earlier attempt); otherwise
// the name belongs to someone else, the local user and its job are removed,
// and CodeUsernameTaken is returned. Any other failure is recorded on the
// job for a retry and returned; row is then returned unchanged.
func (p *Provisioner) Provision(ctx context.Context, row db.User, jobID int64) (db.User, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	remote, err := p.vonage.CreateUser(ctx, vonage.User{
		Name:        row.Username,
		DisplayName: row.DisplayName,
		ImageURL:    row.ImageUrl,
		Properties:  &vonage.UserProperties{CustomData: map[string]any{OwnerKey: row.ID.String()}},
	})
	if vonage.HasCode(err, vonage.CodeDuplicateName) {
		remote, err = p.adopt(ctx, row)
		if sdkauth.ErrorCode(err) == sdkauth.CodeUsernameTaken {
			return row, p.discard(context.WithoutCancel(ctx), row.ID, err)
		}
	}
	if err != nil {
		p.fail(context.WithoutCancel(ctx), jobID, err)
		return row, err
	}
	var out db.User
	err = db.WithTx(context.WithoutCancel(ctx), p.pool, func(q *db.Queries) error {
		var err error
		out, err = q.MarkUserProvisioned(ctx, db.MarkUserProvisionedParams{ID: row.ID, VonageUserID: &remote.ID})
		if err != nil {
			return err
		}
		return q.DeleteProvisioningJob(ctx, jobID)
	})
	if err != nil {
		return row, err
	}
	return out, nil
}

// adopt looks up the Vonage user holding row's name and returns it when it
// is ours; otherwise it returns CodeUsernameTaken.
func (p *Provisioner) adopt(ctx context.Context, row db.User) (vonage.User, error) {
	remote, err := p.vonage.FindUserByName(ctx, row.Username)
	if vonage.IsNotFound(err) {
		// Deleted between our create and our look-up: let a retry create it.
		return vonage.User{}, errors.New("vonage reported a duplicate name that no longer exists")
	}
	if err != nil {
		return vonage.User{}, err
	}
	if remote.Properties != nil && remote.Properties.CustomData[OwnerKey] == row.ID.String() {
		p.log.InfoContext(ctx, "adopted the Vonage user our earlier attempt created", "user_id", row.ID, "vonage_user_id", remote.ID)
		return remote, nil
	}
	return vonage.User{}, errUsernameTaken()
}

// discard removes a local user whose name is taken at Vonage, so a failed
// sign-up leaves nothing behind, and returns cause.
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

// fail records a failed attempt with exponential backoff and jitter,
// honouring Retry-After when Vonage sent one.
func (p *Provisioner) fail(ctx context.Context, jobID int64, cause error) {
	delay := Backoff(0)
	var ve *vonage.Error
	if errors.As(cause, &ve) && ve.RetryAfter > delay {
		delay = ve.RetryAfter
	}
	err := db.New(p.pool).RecordProvisioningFailure(ctx, db.RecordProvisioningFailureParams{
		ID:           jobID,
		DelaySeconds: delay.Seconds(),
		LastError:    cause.Error(),
	})
	if err != nil {
		p.log.ErrorContext(ctx, "recording a provisioning failure", "job_id", jobID, "err", err)
	}
}

// Backoff returns the delay before retry number attempt (0-based):
// exponential from 1 s, capped at 5 min, with full jitter on the upper half.
func Backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 9)
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	return d/2 + rand.N(d/2+1)
}
