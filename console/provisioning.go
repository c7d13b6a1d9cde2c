package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/users"
)

// jobsPageSize is how many provisioning jobs one page shows.
const jobsPageSize = 25

type jobsView struct {
	// State is the listing's filter: users.JobFailed, users.JobPending, or
	// "" for both.
	State string
	Jobs  []users.Job
	// Next links the page after this one; empty on the last page.
	Next  string
	Paged bool
}

// Link is the listing filtered by state.
func (v jobsView) Link(state string) string {
	if state == "" {
		return "/console/provisioning?state=all"
	}
	return "/console/provisioning?state=" + state
}

// listJobs lists the provisioning outbox's jobs, oldest first, failed
// ones unless the query asks for pending ones or all
// (Provisioner.ListJobs, as GET /v1/admin/provisioning/jobs).
func (c *Console) listJobs(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	q := r.URL.Query()
	v := jobsView{State: q.Get("state"), Paged: q.Get("cursor") != ""}
	switch v.State {
	case "all":
		v.State = ""
	case "", users.JobFailed:
		v.State = users.JobFailed
	}
	page, err := c.Provisioner.ListJobs(r.Context(), users.JobListParams{PageSize: jobsPageSize, Cursor: q.Get("cursor"), State: v.State})
	if err != nil {
		return err
	}
	v.Jobs = page.Jobs
	if page.NextCursor != "" {
		v.Next = v.Link(v.State) + "&" + url.Values{"cursor": {page.NextCursor}}.Encode()
	}
	notice := ""
	if id := q.Get("retried"); id != "" {
		notice = "Job " + id + " is due now: the worker takes it up at once. Reload to see how it went; a job that succeeds leaves the list."
	}
	c.render(w, r, http.StatusOK, "provisioning", view{Title: "Provisioning to Vonage", Session: s, Notice: notice, Data: v})
	return nil
}

// retryJob puts a failed job back in line, due now (Provisioner.RetryJob,
// as POST /v1/admin/provisioning/jobs/{id}/retry).
func (c *Console) retryJob(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return sdkauth.Errorf(sdkauth.CodeNotFound, "No such provisioning job.")
	}
	if _, err := c.Provisioner.RetryJob(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/provisioning?state=all&retried="+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}
