package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/users"
)

// jobBody is a provisioning job as the admin API shows it.
type jobBody struct {
	ID            int64      `json:"id"`
	Kind          string     `json:"kind"`
	State         string     `json:"state"`
	UserID        string     `json:"user_id"`
	Username      string     `json:"username"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error"`
	RunAt         *time.Time `json:"run_at,omitempty"`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	FailedAt      *time.Time `json:"failed_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
}

func newJobBody(j users.Job) jobBody {
	at := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	return jobBody{ID: j.ID, Kind: j.Kind, State: j.State, UserID: j.UserID.String(), Username: j.Username,
		Attempts: j.Attempts, LastError: j.LastError, RunAt: at(j.RunAt), LastAttemptAt: at(j.LastAttemptAt),
		FailedAt: at(j.FailedAt), CreatedAt: j.CreatedAt.UTC()}
}

// adminListJobs pages through the provisioning outbox, oldest job first;
// ?state=failed lists the jobs that wait for a person.
func (h *handlers) adminListJobs(c *gin.Context) error {
	q := c.Request.URL.Query()
	var bad []sdkauth.FieldError
	p := users.JobListParams{PageSize: pageSize(q, &bad), Cursor: q.Get("cursor"), State: q.Get("state")}
	if len(bad) > 0 {
		return sdkauth.Invalid(bad...)
	}
	page, err := h.Provisioner.ListJobs(c.Request.Context(), p)
	if err != nil {
		return err
	}
	body := struct {
		Jobs       []jobBody `json:"jobs"`
		NextCursor *string   `json:"next_cursor"`
	}{Jobs: make([]jobBody, 0, len(page.Jobs)), NextCursor: linkNext(c, page.NextCursor)}
	for _, j := range page.Jobs {
		body.Jobs = append(body.Jobs, newJobBody(j))
	}
	writeJSON(c, http.StatusOK, "application/json", body)
	return nil
}

// adminRetryJob makes a failed job due now and pending again, and answers
// with the job as the retry left it; a job that has succeeded since is gone
// (404).
func (h *handlers) adminRetryJob(c *gin.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return sdkauth.Errorf(sdkauth.CodeNotFound, "No such provisioning job.")
	}
	j, err := h.Provisioner.RetryJob(c.Request.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, "application/json", newJobBody(j))
	return nil
}
