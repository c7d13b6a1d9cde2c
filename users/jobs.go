package users

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/vonage"
)

// createPayload marks a create job that re-creates a Vonage user lost
// behind our back (reconcile), as opposed to provisioning a new user.
type createPayload struct {
	Recreate bool `json:"recreate,omitempty"`
}

// deletePayload is what a delete job needs once the local user is gone.
type deletePayload struct {
	Username     string `json:"username"`
	VonageUserID string `json:"vonage_user_id,omitempty"`
}

// Run carries out one claimed job. Every job reads the user's state when it
// runs rather than when it was queued, so a retried or late job sends what
// is true now, and a job for a user deleted since is simply done. Failures
// are recorded on the job (see fail), which is retried with backoff or ends
// as failed; Run returns them for the caller's logs.
func (p *Provisioner) Run(ctx context.Context, job db.ProvisioningJob) error {
	switch job.Kind {
	case JobCreate:
		return p.runCreate(ctx, job)
	case JobUpdate:
		return p.runUpdate(ctx, job)
	case JobDelete:
		return p.runDelete(ctx, job)
	}
	err := permanentError{fmt.Errorf("unknown job kind %q", job.Kind)}
	p.fail(ctx, job.ID, job.Kind, job.Attempts, err)
	return err
}

// runCreate provisions a user that is still pending.
func (p *Provisioner) runCreate(ctx context.Context, job db.ProvisioningJob) error {
	row, err := db.New(p.pool).GetUser(ctx, job.UserID)
	if db.IsNotFound(err) || (err == nil && row.Provisioning == StateProvisioned) {
		return p.complete(ctx, job.ID)
	}
	if err != nil {
		p.fail(ctx, job.ID, job.Kind, job.Attempts, err)
		return err
	}
	var pl createPayload
	_ = json.Unmarshal(job.Payload, &pl) // an unreadable payload is a plain create
	_, err = p.create(ctx, row, job.ID, job.Attempts, !pl.Recreate)
	return err
}

// runUpdate sends the user's display name and image to its Vonage user.
func (p *Provisioner) runUpdate(ctx context.Context, job db.ProvisioningJob) error {
	row, err := db.New(p.pool).GetUser(ctx, job.UserID)
	if db.IsNotFound(err) || (err == nil && row.VonageUserID == nil) {
		// Gone, or not created yet: the create (which runs first) sends
		// the current profile anyway.
		return p.complete(ctx, job.ID)
	}
	if err == nil {
		err = p.gate(ctx)
	}
	if err == nil {
		_, err = p.vonage.UpdateUser(ctx, *row.VonageUserID, vonage.UserUpdate{DisplayName: &row.DisplayName, ImageURL: &row.ImageUrl})
		p.observe(ctx, err)
	}
	if vonage.IsNotFound(err) {
		p.log.WarnContext(ctx, "the Vonage user was deleted behind our back; `sdkauth users reconcile --fix` re-creates it",
			"user_id", row.ID, "vonage_user_id", *row.VonageUserID)
		return p.complete(ctx, job.ID)
	}
	if err != nil {
		p.fail(ctx, job.ID, job.Kind, job.Attempts, err)
		return err
	}
	return p.complete(ctx, job.ID)
}

// runDelete deletes a deleted user's Vonage user. A 404 counts as done.
// When the Vonage id was never known (deleted while pending), the user is
// looked up by name and deleted only if it names this user as its owner.
func (p *Provisioner) runDelete(ctx context.Context, job db.ProvisioningJob) error {
	var pl deletePayload
	if err := json.Unmarshal(job.Payload, &pl); err != nil {
		err = permanentError{fmt.Errorf("delete job payload: %w", err)}
		p.fail(ctx, job.ID, job.Kind, job.Attempts, err)
		return err
	}
	err := p.gate(ctx)
	if err == nil {
		err = p.deleteRemote(ctx, job, pl)
		p.observe(ctx, err)
	}
	if err != nil && !vonage.IsNotFound(err) {
		p.fail(ctx, job.ID, job.Kind, job.Attempts, err)
		return err
	}
	return p.complete(ctx, job.ID)
}

func (p *Provisioner) deleteRemote(ctx context.Context, job db.ProvisioningJob, pl deletePayload) error {
	if pl.VonageUserID != "" {
		return p.vonage.DeleteUser(ctx, pl.VonageUserID)
	}
	if pl.Username == "" {
		return permanentError{errors.New("delete job names neither a Vonage user nor a username")}
	}
	remote, err := p.findByName(ctx, pl.Username)
	if err != nil {
		return err
	}
	if ownerOf(remote) != job.UserID.String() {
		return nil // not ours: never delete it
	}
	return p.vonage.DeleteUser(ctx, remote.ID)
}
