package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sdkauth/sdkauth/auth"
)

// auditPageSize is how many audit entries one page shows.
const auditPageSize = 50

// auditView is the audit log's filter form, as typed, and a page of what
// it matches.
type auditView struct {
	User, Event, Actor, Since, Until string
	Errors                           map[string]string
	Entries                          []auth.AuditEntry
	// Next links the page of older entries; empty on the last page.
	Next  string
	Paged bool
}

// filter is the query string of the view's filters, for links that keep
// them.
func (v auditView) filter() url.Values {
	q := url.Values{}
	for k, val := range map[string]string{"user": v.User, "event": v.Event, "actor": v.Actor, "since": v.Since, "until": v.Until} {
		if val != "" {
			q.Set(k, val)
		}
	}
	return q
}

// First links the newest page with the same filters.
func (v auditView) First() string {
	if q := v.filter().Encode(); q != "" {
		return "/console/audit?" + q
	}
	return "/console/audit"
}

// Filter links the audit log narrowed to name=value on top of the current
// filters.
func (v auditView) Filter(name, value string) string {
	q := v.filter()
	q.Set(name, value)
	return "/console/audit?" + q.Encode()
}

// timeLayouts are what a datetime-local field sends, with and without
// seconds, and a bare date; all are read as UTC.
var timeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"}

func parseUTC(s string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// listAudit shows the audit log, newest first, narrowed by user, event,
// actor and time, a page at a time (Audit.Search).
func (c *Console) listAudit(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	q := r.URL.Query()
	v := auditView{
		User: strings.TrimSpace(q.Get("user")), Event: strings.TrimSpace(q.Get("event")), Actor: strings.TrimSpace(q.Get("actor")),
		Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until")),
	}
	search := auth.AuditQuery{User: v.User, Event: v.Event, Actor: v.Actor, PageSize: auditPageSize}
	for _, f := range []struct {
		name, value string
		into        *time.Time
	}{{"since", v.Since, &search.Since}, {"until", v.Until, &search.Until}} {
		if f.value == "" {
			continue
		}
		t, ok := parseUTC(f.value)
		if !ok {
			if v.Errors == nil {
				v.Errors = map[string]string{}
			}
			v.Errors[f.name] = "must be a date and time such as 2026-01-31T14:00 (UTC)"
		}
		*f.into = t
	}
	if len(v.Errors) > 0 {
		c.render(w, r, http.StatusBadRequest, "audit", view{Title: "Audit log", Session: s, Error: "Correct the filters marked below.", Data: v})
		return nil
	}
	if before, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && before > 0 {
		search.Before, v.Paged = before, true
	}
	entries, more, err := c.Audit.Search(r.Context(), search)
	if err != nil {
		return err
	}
	v.Entries = entries
	if more {
		next := v.filter()
		next.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		v.Next = "/console/audit?" + next.Encode()
	}
	c.render(w, r, http.StatusOK, "audit", view{Title: "Audit log", Session: s, Data: v})
	return nil
}
