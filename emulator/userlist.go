package emulator

import (
	"net/http"
)

// userSummary is a user as the list embeds it.
type userSummary struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name,omitempty"`
	Links       map[string]link `json:"_links"`
}

// listUsers handles GET /v1/users with cursor paging in creation order and
// name as an exact-match filter.
func (e *Emulator) listUsers(w http.ResponseWriter, r *http.Request, c caller) {
	var v validator
	params := v.query(r)
	q := readPageQuery(&v, params, "/v1/users", "name")
	if !v.ok() {
		writeValidation(w, v.params...)
		return
	}
	name := q.filters.Get("name")
	base := baseURL(r)

	e.mu.Lock()
	app := e.apps[c.appID]
	if app == nil {
		e.mu.Unlock()
		applicationGone(w)
		return
	}
	var all []*user
	for _, u := range app.usersInOrder() {
		if name == "" || u.name == name {
			all = append(all, u)
		}
	}
	e.mu.Unlock()

	page, links := paginate(all, func(u *user) uint64 { return u.seq }, q, base)
	users := make([]userSummary, 0, len(page))
	for _, u := range page {
		users = append(users, userSummary{
			ID: u.id, Name: u.name, DisplayName: u.displayName,
			Links: map[string]link{"self": {Href: base + "/v1/users/" + u.id}},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"page_size": q.pageSize,
		"_embedded": map[string]any{"users": users},
		"_links":    links,
	})
}
