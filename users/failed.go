package users

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/vonage"
)

// Job states in the provisioning outbox.
const (
	// JobPending: waiting to run, running, or waiting out a backoff.
	JobPending = "pending"
	// JobFailed: ended without success; it runs again only when retried.
	JobFailed = "failed"
)

// permanentError marks a failure that no retry can mend: a job that cannot
// be carried out at all.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// permanent reports whether a job that failed with err would fail the same
// way however often it were retried: Vonage refused the request itself (a
// 4xx other than 429 Too Many Requests and 408 Request Timeout, and other
// than 401 and 403, which are about sdkauth's credentials and mend with a
// key rotation or a configuration fix rather than with the job), the name is
// another's at Vonage, or the job cannot be carried out. Network errors,
// 5xx, 429 and database errors are not.
func permanent(err error) bool {
	var ve *vonage.Error
	if errors.As(err, &ve) {
		switch ve.Status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout, http.StatusTooManyRequests:
			return false
		}
		return ve.Status >= 400 && ve.Status < 500
	}
	var pe permanentError
	return errors.As(err, &pe) || sdkauth.ErrorCode(err) == sdkauth.CodeUsernameTaken
}

// lastError is a failure as a job keeps it. The texts it comes from carry no
// secret: vonage.Error is built from the answer and the request line only
// (never the bearer token), and transport errors name a URL whose password
// net/http has redacted.
func lastError(err error) string { return auth.Truncate(err.Error(), 1000) }

// Job is a provisioning job as admins see it.
type Job struct {
	ID     int64
	Kind   string // JobCreate, JobUpdate or JobDelete
	State  string // JobPending or JobFailed
	UserID uuid.UUID
	// Username is the user's name, or for a deleted user the name its
	// delete job carries; "" when neither is known.
	Username  string
	Attempts  int
	LastError string
	// RunAt is when a pending job is next due (or its lease ends); zero for
	// a failed job.
	RunAt         time.Time
	LastAttemptAt time.Time // zero until the worker first claims it
	FailedAt      time.Time // zero unless failed
	CreatedAt     time.Time
}

func jobFromRow(r db.ProvisioningJob, username string) Job {
	j := Job{ID: r.ID, Kind: r.Kind, State: r.State, UserID: r.UserID, Username: username,
		Attempts: int(r.Attempts), LastError: r.LastError, CreatedAt: r.CreatedAt}
	if r.State == JobPending {
		j.RunAt = r.RunAt
	}
	if r.LastAttemptAt != nil {
		j.LastAttemptAt = *r.LastAttemptAt
	}
	if r.FailedAt != nil {
		j.FailedAt = *r.FailedAt
	}
	return j
}

// JobListParams select and page provisioning jobs.
type JobListParams struct {
	PageSize int    // 1 to 100
	Cursor   string // opaque, from a previous page
	State    string // JobPending, JobFailed, or "" for both
}

// JobPage is one page of jobs, oldest first, and the cursor of the next,
// "" at the end.
type JobPage struct {
	Jobs       []Job
	NextCursor string
}

// jobCursor is a keyset position: the last job id shown, and the state
// filter it was shown under.
type jobCursor struct {
	After int64  `json:"a"`
	State string `json:"s,omitempty"`
}

// ListJobs returns a page of provisioning jobs in the order they were
// queued. It returns a validation error naming state or cursor, or the
// database's error.
func (p *Provisioner) ListJobs(ctx context.Context, lp JobListParams) (JobPage, error) {
	arg := db.ListProvisioningJobsPageParams{MaxRows: int32(lp.PageSize + 1)}
	switch lp.State {
	case "":
	case JobPending, JobFailed:
		arg.State = &lp.State
	default:
		return JobPage{}, sdkauth.Invalid(sdkauth.FieldError{Name: "state", Reason: "must be pending or failed"})
	}
	if lp.Cursor != "" {
		var c jobCursor
		b, err := base64.RawURLEncoding.DecodeString(lp.Cursor)
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err != nil || c.After <= 0 || c.State != lp.State {
			return JobPage{}, sdkauth.Invalid(sdkauth.FieldError{Name: "cursor", Reason: "is not a cursor from this listing"})
		}
		arg.AfterID = c.After
	}
	rows, err := db.New(p.pool).ListProvisioningJobsPage(ctx, arg)
	if err != nil {
		return JobPage{}, err
	}
	var page JobPage
	if len(rows) > lp.PageSize {
		rows = rows[:lp.PageSize]
		b, _ := json.Marshal(jobCursor{After: rows[len(rows)-1].ProvisioningJob.ID, State: lp.State})
		page.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	page.Jobs = make([]Job, 0, len(rows))
	for _, r := range rows {
		page.Jobs = append(page.Jobs, jobFromRow(r.ProvisioningJob, r.Username))
	}
	return page, nil
}

// RetryJob puts failed job id back in line, due now, with a fresh count of
// attempts (and its user, for a create job, pending again), records who
// retried it in the audit log, and wakes this process's worker. Retrying a
// job that is pending changes nothing, so two admins retrying at once do no
// harm. It returns the job as the retry left it, CodeNotFound for a job
// that does not exist (or has since succeeded), or the database's error.
func (p *Provisioner) RetryJob(ctx context.Context, id int64) (Job, error) {
	cur, retried, err := p.retry(ctx, id, 0)
	if err != nil {
		return Job{}, err
	}
	if retried {
		p.Nudge()
	}
	return jobFromRow(cur.ProvisioningJob, cur.Username), nil
}

// retry makes failed job id pending again, due after delay, in one
// transaction with its user's state and its audit row. It returns the job
// and true when it was failed; the job as it is and false when it was not;
// CodeNotFound; or the database's error.
func (p *Provisioner) retry(ctx context.Context, id int64, delay time.Duration) (db.GetProvisioningJobRow, bool, error) {
	var cur db.GetProvisioningJobRow
	var retried bool
	err := db.WithTx(ctx, p.pool, func(q *db.Queries) error {
		retried = false
		row, err := q.RetryProvisioningJob(ctx, db.RetryProvisioningJobParams{ID: id, DelaySeconds: delay.Seconds()})
		if err != nil && !db.IsNotFound(err) {
			return err
		}
		retried = err == nil
		cur, err = q.GetProvisioningJob(ctx, id)
		if db.IsNotFound(err) {
			return errNoSuchJob()
		}
		if err != nil {
			return err
		}
		if !retried {
			return nil
		}
		if row.Kind == JobCreate {
			if err := q.MarkUserPendingAgain(ctx, row.UserID); err != nil {
				return err
			}
		}
		return p.audit.RecordTx(ctx, q, auth.Event{Type: auth.EventProvisioningJobRetried, UserID: row.UserID, Username: cur.Username,
			Detail: "job_id=" + strconv.FormatInt(row.ID, 10) + " kind=" + row.Kind})
	})
	return cur, retried && err == nil, err
}

func errNoSuchJob() error { return sdkauth.Errorf(sdkauth.CodeNotFound, "No such provisioning job.") }
