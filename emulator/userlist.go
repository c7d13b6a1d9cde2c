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
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		var all []*user
		for _, u := range app.usersInOrder() {
			if name == "" || u.name == name {
				all = append(all, u)
			}
		}
		page, links := paginate(all, func(u *user) uint64 { return u.seq }, q, base)
		items := make([]any, 0, len(page))
		for _, u := range page {
			items = append(items, userSummary{
				ID: u.id, Name: u.name, DisplayName: u.displayName,
				Links: map[string]link{"self": {Href: base + "/v1/users/" + u.id}},
			})
		}
		return pageView(q, "users", items, links), nil
	})
}
