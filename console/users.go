package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/users"
)

// usersPageSize is how many users one page of the listing shows.
const usersPageSize = 25

type usersView struct {
	Username string
	Users    []users.User
	// Next links the page after this one; empty on the last page.
	Next  string
	Paged bool
}

// listUsers lists users in creation order, narrowed by a username prefix,
// a page at a time with the listing's keyset cursor (users.Service.List,
// as GET /v1/admin/users).
func (c *Console) listUsers(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	q := r.URL.Query()
	v := usersView{Username: q.Get("username"), Paged: q.Get("cursor") != ""}
	page, err := c.Users.List(r.Context(), users.ListParams{PageSize: usersPageSize, UsernamePrefix: v.Username, Cursor: q.Get("cursor")})
	if err != nil {
		return err
	}
	v.Users = page.Users
	if page.NextCursor != "" {
		next := url.Values{"cursor": {page.NextCursor}}
		if v.Username != "" {
			next.Set("username", v.Username)
		}
		v.Next = "/console/users?" + next.Encode()
	}
	c.render(w, r, http.StatusOK, "users", view{Title: "Users", Session: s, Data: v})
	return nil
}

// notices are what a user's page says after an action redirected to it;
// the query names one, so no text from a request is shown.
var notices = map[string]string{
	"disabled": "The user is disabled: it can no longer log in or refresh its tokens.",
	"enabled":  "The user is enabled again.",
}

func (c *Console) pathUser(r *http.Request) (users.User, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return users.User{}, sdkauth.Errorf(sdkauth.CodeNotFound, "No such user.")
	}
	return c.Users.Get(r.Context(), id)
}

// showUser shows a user's profile, policy, Vonage id and provisioning
// state, with the actions an admin may take.
func (c *Console) showUser(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	u, err := c.pathUser(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	notice := notices[q.Get("done")]
	if n, err := strconv.Atoi(q.Get("revoked")); err == nil {
		notice = "Sessions revoked: " + strconv.Itoa(n) + ". The user's refresh tokens and earlier access tokens no longer work."
	}
	c.render(w, r, http.StatusOK, "user", view{Title: u.Username, Session: s, Notice: notice, Data: u})
	return nil
}

// setDisabled disables or re-enables a user as PATCH
// /v1/admin/users/{id} with "disabled" does.
func (c *Console) setDisabled(disabled bool) handler {
	return func(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
		u, err := c.pathUser(r)
		if err != nil {
			return err
		}
		if u.Disabled != disabled {
			if u, err = c.Users.SetDisabled(r.Context(), u.ID, disabled); err != nil {
				return err
			}
		}
		done := map[bool]string{true: "disabled", false: "enabled"}[disabled]
		http.Redirect(w, r, "/console/users/"+u.ID.String()+"?done="+done, http.StatusSeeOther)
		return nil
	}
}

// revokeSessions ends every session of a user as DELETE
// /v1/admin/users/{id}/sessions does.
func (c *Console) revokeSessions(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	u, err := c.pathUser(r)
	if err != nil {
		return err
	}
	n, err := c.UserSessions.LogoutAll(r.Context(), u.ID)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/users/"+u.ID.String()+"?revoked="+strconv.FormatInt(n, 10), http.StatusSeeOther)
	return nil
}
