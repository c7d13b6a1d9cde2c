package users

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/vonage"
)

// Kinds of drift between local users and Vonage users.
const (
	// DriftMissingRemote: a provisioned local user whose Vonage user is gone
	// (deleted behind our back). Fixed by creating it again.
	DriftMissingRemote = "missing_remote"
	// DriftStuckPending: a local user waiting for provisioning with no job
	// to provision it. Fixed by queueing one.
	DriftStuckPending = "stuck_pending"
	// DriftRenamed: the local user's Vonage user has another name now.
	// Fixed by giving it back the local name.
	DriftRenamed = "renamed_remotely"
	// DriftRelinked: the local user points at another Vonage id than the
	// user of its name, which names it as owner. Fixed by pointing at it.
	DriftRelinked = "wrong_vonage_id"
	// DriftNameTaken: the local user's name belongs at Vonage to a user we
	// did not create for it. Reported only: sorting that out is a person's call.
	DriftNameTaken = "name_taken_remotely"
	// DriftFields: display name or image differ. Fixed by sending ours.
	DriftFields = "fields_differ"
	// DriftOrphaned: a Vonage user this database created whose local user
	// is gone. Fixed by deleting it.
	DriftOrphaned = "orphaned_remote"
	// DriftRemoteOnly: a Vonage user sdkauth did not create (or another
	// sdkauth did). Reported only: never deleted.
	DriftRemoteOnly = "remote_only"
	// DriftFailedJob: a provisioning job that ended as failed (Vonage
	// refused it for good, or it used its attempts). Fixed by retrying it.
	DriftFailedJob = "provisioning_failed"
)

// Drift is one difference reconcile found, and what --fix did about it.
type Drift struct {
	Kind         string
	Username     string
	UserID       uuid.UUID // uuid.Nil when no local user is involved
	VonageUserID string
	Detail       string
	Fixed        bool
	FixError     string
}

// Report is what a reconcile run found.
type Report struct {
	LocalUsers, RemoteUsers, Pending int
	Drift                            []Drift
}

// Reconciler compares every local user with every Vonage user of the
// application and, when asked, repairs what is ours to repair.
type Reconciler struct {
	prov *Provisioner
}

// NewReconciler returns a Reconciler working through prov's database and
// Vonage client.
func NewReconciler(prov *Provisioner) *Reconciler { return &Reconciler{prov: prov} }

// Run lists every Vonage user (following the next links to the last page)
// and every local user and reports the drift between them; with fix it
// repairs each kind its documentation says is fixed. It never deletes a
// Vonage user that this database did not create. It returns the report so
// far and the first error that stopped the scan (a fix that fails is
// recorded on its Drift instead).
func (r *Reconciler) Run(ctx context.Context, fix bool) (Report, error) {
	var rep Report
	remote := map[string]vonage.User{} // by name
	err := r.retry(ctx, func() error {
		clear(remote)
		return r.prov.vonage.EachUser(ctx, vonage.ListUsersParams{PageSize: 100}, func(u vonage.User) error {
			remote[u.Name] = u
			return nil
		})
	})
	if err != nil {
		return rep, err
	}
	rep.RemoteUsers = len(remote)
	q := db.New(r.prov.pool)
	jobs, err := q.ListProvisioningJobs(ctx)
	if err != nil {
		return rep, err
	}
	hasJob, deleting := map[uuid.UUID]bool{}, map[string]bool{}
	var failed []int64
	for _, j := range jobs {
		hasJob[j.UserID] = true
		if j.State == JobFailed {
			failed = append(failed, j.ID)
		}
		var pl deletePayload
		if j.Kind == JobDelete && json.Unmarshal(j.Payload, &pl) == nil {
			deleting[pl.Username] = true
		}
	}
	local := map[uuid.UUID]bool{}
	for after := uuid.Nil; ; {
		rows, err := q.ListUsersAfter(ctx, db.ListUsersAfterParams{After: after, MaxRows: 500})
		if err != nil {
			return rep, err
		}
		for _, row := range rows {
			local[row.ID] = true
			rep.LocalUsers++
			d, matched, err := r.checkLocal(ctx, row, remote, hasJob[row.ID])
			if err != nil {
				return rep, err
			}
			delete(remote, matched)
			if row.Provisioning == StatePending && d == nil {
				rep.Pending++
			}
			if d != nil {
				if fix {
					r.fix(ctx, row, d)
				}
				rep.Drift = append(rep.Drift, *d)
			}
		}
		if len(rows) < 500 {
			break
		}
		after = rows[len(rows)-1].ID
	}
	for name, u := range remote {
		if deleting[name] {
			continue // its delete job is on the way
		}
		d, err := r.checkRemote(ctx, u, local)
		if err != nil {
			return rep, err
		}
		if fix && d.Kind == DriftOrphaned {
			r.deleteOrphan(ctx, &d)
		}
		rep.Drift = append(rep.Drift, d)
	}
	for _, id := range failed {
		d, err := r.checkFailedJob(ctx, id)
		if err != nil {
			return rep, err
		}
		if d == nil {
			continue // retried or done since the jobs were listed
		}
		if fix {
			r.retryJob(ctx, id, d)
		}
		rep.Drift = append(rep.Drift, *d)
	}
	return rep, nil
}

// checkLocal compares one local user with its Vonage user. It returns the
// name of the Vonage user this local user accounts for ("" for none).
func (r *Reconciler) checkLocal(ctx context.Context, row db.User, remote map[string]vonage.User, hasJob bool) (*Drift, string, error) {
	d := &Drift{Username: row.Username, UserID: row.ID}
	if row.VonageUserID != nil {
		d.VonageUserID = *row.VonageUserID
	}
	summary, exists := remote[row.Username]
	if row.Provisioning == StatePending || row.Provisioning == StateFailed {
		if hasJob {
			// The worker is on it (and may have created it), or its failed
			// job is reported as such.
			return nil, row.Username, nil
		}
		d.Kind, d.Detail = DriftStuckPending, row.Provisioning+" with no provisioning job"
		return d, row.Username, nil
	}
	if !exists {
		if hasJob {
			return nil, "", nil // a job in the outbox may be what changes it
		}
		if d.VonageUserID != "" {
			full, err := r.get(ctx, d.VonageUserID)
			if err == nil {
				d.Kind, d.Detail = DriftRenamed, "the Vonage user is now called "+quoteOr(full.Name, "nothing")
				return d, full.Name, nil
			}
			if !vonage.IsNotFound(err) {
				return nil, "", err
			}
		}
		d.Kind, d.Detail = DriftMissingRemote, "no Vonage user has this name or id"
		return d, "", nil
	}
	full, err := r.get(ctx, summary.ID)
	if vonage.IsNotFound(err) {
		return nil, row.Username, nil // deleted while we looked: the next run sees it
	}
	if err != nil {
		return nil, "", err
	}
	switch owner := ownerOf(full); {
	case full.ID != d.VonageUserID && owner == row.ID.String():
		d.Kind, d.Detail, d.VonageUserID = DriftRelinked, "local user points at "+d.VonageUserID, full.ID
		return d, row.Username, nil
	case full.ID != d.VonageUserID:
		d.Kind, d.Detail, d.VonageUserID = DriftNameTaken, "the Vonage user of this name is not ours (owner "+quoteOr(owner, "none")+")", full.ID
		return d, row.Username, nil
	case full.DisplayName != row.DisplayName || full.ImageURL != row.ImageUrl:
		d.Kind, d.Detail = DriftFields, "Vonage has display_name "+quoteOr(full.DisplayName, "none")+", image_url "+quoteOr(full.ImageURL, "none")
		return d, row.Username, nil
	}
	return nil, row.Username, nil
}

// checkRemote classifies a Vonage user no local user has claimed.
func (r *Reconciler) checkRemote(ctx context.Context, u vonage.User, local map[uuid.UUID]bool) (Drift, error) {
	d := Drift{Kind: DriftRemoteOnly, Username: u.Name, VonageUserID: u.ID, Detail: "not created by this sdkauth"}
	full, err := r.get(ctx, u.ID)
	if vonage.IsNotFound(err) {
		d.Detail = "deleted while reconcile ran"
		return d, nil
	}
	if err != nil {
		return d, err
	}
	id, err := uuid.Parse(ownerOf(full))
	if err != nil {
		return d, nil
	}
	if local[id] {
		d.UserID, d.Detail = id, "names a local user as owner, but that user is linked to another Vonage user"
		return d, nil
	}
	d.UserID = id
	ours, err := db.New(r.prov.pool).UserSignedUpHere(ctx, &id)
	if err != nil {
		return d, err
	}
	if ours {
		d.Kind, d.Detail = DriftOrphaned, "created by this sdkauth for a user that no longer exists"
	} else {
		d.Detail = "owned by an sdkauth user this database never had"
	}
	return d, nil
}

// get reads one Vonage user in full, waiting out Retry-After.
func (r *Reconciler) get(ctx context.Context, id string) (vonage.User, error) {
	var u vonage.User
	err := r.retry(ctx, func() error {
		var err error
		u, err = r.prov.vonage.GetUser(ctx, id)
		return err
	})
	return u, err
}

// retry runs call up to four times while Vonage answers that it may
// succeed later, waiting its Retry-After (or a backoff) in between.
func (r *Reconciler) retry(ctx context.Context, call func() error) error {
	var err error
	for attempt := range 4 {
		if err = call(); err == nil || !vonage.IsRetryable(err) {
			return err
		}
		wait := Backoff(attempt)
		var ve *vonage.Error
		if errors.As(err, &ve) && ve.RetryAfter > wait {
			wait = ve.RetryAfter
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return err
}

func quoteOr(s, none string) string {
	if s == "" {
		return none
	}
	return `"` + s + `"`
}
