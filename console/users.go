package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/users"
)

// usersPageSize is how many users one page of the listing shows.
const usersPageSize = 25

type usersView struct {
	Username, Provisioning, Disabled string
	// States are the provisioning states to filter by.
	States []string
	Users  []users.User
	// First links the first page and Next the page after this one, both
	// with this page's filters; Next is empty on the last page.
	First, Next string
	Paged       bool
	Filtered    bool
}

// listUsers lists users in creation order, narrowed by a username prefix,
// provisioning state and whether they are disabled, a page at a time with
// the listing's keyset cursor (users.Service.List, as GET
// /v1/admin/users). The filters stay on every page's links.
func (c *Console) listUsers(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession) error {
	q := r.URL.Query()
	v := usersView{Username: q.Get("username"), Provisioning: q.Get("provisioning"), Disabled: q.Get("disabled"), States: users.States, Paged: q.Get("cursor") != ""}
	p := users.ListParams{PageSize: usersPageSize, UsernamePrefix: v.Username, Provisioning: v.Provisioning, Cursor: q.Get("cursor")}
	if p.Provisioning != "" && !slices.Contains(users.States, p.Provisioning) {
		return sdkauth.Invalid(sdkauth.FieldError{Name: "provisioning", Reason: "must be " + strings.Join(users.States, ", ")})
	}
	switch v.Disabled {
	case "":
	case "true", "false":
		b := v.Disabled == "true"
		p.Disabled = &b
	default:
		return sdkauth.Invalid(sdkauth.FieldError{Name: "disabled", Reason: "must be true or false"})
	}
	page, err := c.Users.List(r.Context(), p)
	if err != nil {
		return err
	}
	v.Users = page.Users
	filters := url.Values{}
	for name, value := range map[string]string{"username": v.Username, "provisioning": v.Provisioning, "disabled": v.Disabled} {
		if value != "" {
			filters.Set(name, value)
		}
	}
	v.Filtered = len(filters) > 0
	v.First = "/console/users"
	if v.Filtered {
		v.First += "?" + filters.Encode()
	}
	if page.NextCursor != "" {
		filters.Set("cursor", page.NextCursor)
		v.Next = "/console/users?" + filters.Encode()
	}
	notice := notices[q.Get("done")]
	c.render(w, r, http.StatusOK, "users", view{Title: "Users", Session: s, Notice: notice, Data: v})
	return nil
}

// notices are what a user's page says after an action redirected to it;
// the query names one, so no text from a request is shown.
var notices = map[string]string{
	"disabled": "The user is disabled: it can no longer log in or refresh its tokens.",
	"enabled":  "The user is enabled again.",
	"policy":   "The policy is changed: the user's next token carries its ACL. Tokens issued earlier keep theirs until they expire.",
	"deleted":  "The user is deleted with its sessions; its Vonage user is being removed.",
}

// userView is a user's page: the profile, live sessions, the policies it
// may be moved to, and a token minted just now, shown this once.
type userView struct {
	User     users.User
	Sessions []auth.LiveSession
	Policies []auth.Policy
	// MayMint is whether the acting client holds tokens:user.
	MayMint bool
	Token   string
	Expires time.Time
}

func (c *Console) pathUser(r *http.Request) (users.User, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return users.User{}, sdkauth.Errorf(sdkauth.CodeNotFound, "No such user.")
	}
	return c.Users.Get(r.Context(), id)
}

// showUser shows a user's profile, policy, Vonage id, provisioning state
// and live sessions, with the actions an admin may take.
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
	return c.renderUser(w, r, s, userView{User: u}, notice)
}

// renderUser fills in v's sessions and policies for v.User and shows the
// user's page.
func (c *Console) renderUser(w http.ResponseWriter, r *http.Request, s *auth.ConsoleSession, v userView, notice string) error {
	var err error
	if v.Sessions, err = c.UserSessions.Live(r.Context(), v.User.ID); err != nil {
		return err
	}
	if v.Policies, err = c.Policies.List(r.Context()); err != nil {
		return err
	}
	v.MayMint = s.Has(auth.ScopeTokensUser)
	c.render(w, r, http.StatusOK, "user", view{Title: v.User.Username, Session: s, Notice: notice, Data: v})
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
