package users

import (
	"context"
	"fmt"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/vonage"
)

// fix repairs d, a drift of local user row, where its kind says it is
// fixed, and records the outcome on d.
func (r *Reconciler) fix(ctx context.Context, row db.User, d *Drift) {
	var err error
	switch d.Kind {
	case DriftMissingRemote, DriftStuckPending:
		err = r.recreate(ctx, row, d)
	case DriftRelinked:
		_, err = db.New(r.prov.pool).MarkUserProvisioned(ctx, db.MarkUserProvisionedParams{ID: row.ID, VonageUserID: &d.VonageUserID})
	case DriftRenamed:
		err = r.retry(ctx, func() error {
			_, err := r.prov.vonage.UpdateUser(ctx, d.VonageUserID, vonage.UserUpdate{Name: &row.Username})
			return err
		})
	case DriftFields:
		err = r.retry(ctx, func() error {
			_, err := r.prov.vonage.UpdateUser(ctx, d.VonageUserID, vonage.UserUpdate{DisplayName: &row.DisplayName, ImageURL: &row.ImageUrl})
			return err
		})
	default:
		return // reported only
	}
	d.Fixed = err == nil
	if err != nil {
		d.FixError = err.Error()
	}
}

// recreate marks row pending and queues its create job in one transaction,
// then provisions it inline as a sign-up does; when that fails the job
// stays queued for the worker of any running replica.
func (r *Reconciler) recreate(ctx context.Context, row db.User, d *Drift) error {
	var jobID int64
	err := db.WithTx(ctx, r.prov.pool, func(q *db.Queries) error {
		var err error
		if row, err = q.MarkUserPending(ctx, row.ID); err != nil {
			return err
		}
		jobID, err = enqueue(ctx, q, row.ID, JobCreate, []byte(`{"recreate":true}`), r.prov.inlineDelay())
		return err
	})
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, r.prov.timeout)
	defer cancel()
	row, err = r.prov.create(pctx, row, jobID, 0, false)
	if err != nil {
		return err
	}
	d.VonageUserID = *row.VonageUserID
	return nil
}

// deleteOrphan deletes a Vonage user this database created for a user
// that no longer exists; 404 counts as done.
func (r *Reconciler) deleteOrphan(ctx context.Context, d *Drift) {
	err := r.retry(ctx, func() error { return r.prov.vonage.DeleteUser(ctx, d.VonageUserID) })
	if vonage.IsNotFound(err) {
		err = nil
	}
	d.Fixed = err == nil
	if err != nil {
		d.FixError = err.Error()
	}
}

// checkFailedJob describes failed job id as drift, or returns nil when it
// is no longer failed.
func (r *Reconciler) checkFailedJob(ctx context.Context, id int64) (*Drift, error) {
	row, err := db.New(r.prov.pool).GetProvisioningJob(ctx, id)
	if db.IsNotFound(err) || err == nil && row.ProvisioningJob.State != JobFailed {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	j := row.ProvisioningJob
	return &Drift{Kind: DriftFailedJob, Username: row.Username, UserID: j.UserID,
		Detail: fmt.Sprintf("%s job %d failed after %d attempts: %s", j.Kind, j.ID, j.Attempts, j.LastError)}, nil
}

// retryJob puts failed job id back in line and runs it at once, as the
// admin API's retry and a sign-up do: it is leased for the inline attempt,
// so no worker runs it meanwhile, and when the attempt fails it stays
// queued (or ends failed again) as any job would.
func (r *Reconciler) retryJob(ctx context.Context, id int64, d *Drift) {
	job, retried, err := r.prov.retry(ctx, id, r.prov.inlineDelay())
	if err == nil && retried {
		jctx, cancel := context.WithTimeout(ctx, r.prov.timeout)
		err = r.prov.Run(jctx, job.ProvisioningJob)
		cancel()
	}
	d.Fixed = err == nil && retried
	if err != nil {
		d.FixError = err.Error()
	}
}
