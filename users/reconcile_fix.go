package users

import (
	"context"

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
