package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/users"
)

type adminCreateUserRequest struct {
	Username     string `json:"username" binding:"required"`
	Password     string `json:"password"`
	PasswordHash string `json:"password_hash"`
	DisplayName  string `json:"display_name" binding:"max=200"`
	ImageURL     string `json:"image_url" binding:"omitempty,max=2048,http_url"`
	Policy       string `json:"policy" binding:"max=64"`
}

func (r adminCreateUserRequest) input() users.CreateInput {
	return users.CreateInput{
		SignUpInput: users.SignUpInput{
			Username:    r.Username,
			Password:    r.Password,
			DisplayName: r.DisplayName,
			ImageURL:    r.ImageURL,
			Policy:      r.Policy,
		},
		PasswordHash: r.PasswordHash,
	}
}

// adminCreateUser creates a user with a password or an imported hash and
// provisions it as sign-up does; no session is started.
func (h *handlers) adminCreateUser(c *gin.Context) error {
	var req adminCreateUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Password == "" && req.PasswordHash == "" {
		return sdkauth.Invalid(sdkauth.FieldError{Name: "password", Reason: "is required (or password_hash)"})
	}
	if req.Policy != "" {
		if err := h.Policies.CheckExists(c.Request.Context(), "policy", req.Policy); err != nil {
			return err
		}
	}
	u, err := h.Users.Create(c.Request.Context(), req.input())
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusCreated, "application/json", newUserBody(u))
	return nil
}

// pathUser loads the user named by the :id path parameter.
func (h *handlers) pathUser(c *gin.Context) (users.User, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return users.User{}, sdkauth.Errorf(sdkauth.CodeNotFound, "No such user.")
	}
	return h.Users.Get(c.Request.Context(), id)
}

func (h *handlers) adminGetUser(c *gin.Context) error {
	u, err := h.pathUser(c)
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, "application/json", newUserBody(u))
	return nil
}

// adminListUsers pages through users with a keyset cursor, so a listing
// followed to its end shows each user once even while users are created.
func (h *handlers) adminListUsers(c *gin.Context) error {
	p, err := listParams(c.Request.URL.Query())
	if err != nil {
		return err
	}
	page, err := h.Users.List(c.Request.Context(), p)
	if err != nil {
		return err
	}
	body := struct {
		Users      []*userBody `json:"users"`
		NextCursor *string     `json:"next_cursor"`
	}{Users: make([]*userBody, 0, len(page.Users)), NextCursor: linkNext(c, page.NextCursor)}
	for _, u := range page.Users {
		body.Users = append(body.Users, newUserBody(u))
	}
	writeJSON(c, http.StatusOK, "application/json", body)
	return nil
}

// pageSize reads page_size (20 when absent), appending to bad unless it is
// an integer from 1 to 100.
func pageSize(q url.Values, bad *[]sdkauth.FieldError) int {
	s := q.Get("page_size")
	if s == "" {
		return 20
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > users.MaxPageSize {
		*bad = append(*bad, sdkauth.FieldError{Name: "page_size", Reason: "must be an integer from 1 to " + strconv.Itoa(users.MaxPageSize)})
	}
	return n
}

// linkNext points a Link header (rel="next") at the page after this one,
// and returns the cursor for the body's next_cursor: nil on the last page.
func linkNext(c *gin.Context, cursor string) *string {
	if cursor == "" {
		return nil
	}
	next := *c.Request.URL
	q := next.Query()
	q.Set("cursor", cursor)
	next.RawQuery = q.Encode()
	c.Header("Link", "<"+next.RequestURI()+`>; rel="next"`)
	return &cursor
}

// listParams reads and checks the list query, naming any bad parameter.
func listParams(q url.Values) (users.ListParams, error) {
	var bad []sdkauth.FieldError
	p := users.ListParams{PageSize: pageSize(q, &bad), Cursor: q.Get("cursor"), UsernamePrefix: q.Get("username"), Provisioning: q.Get("provisioning")}
	switch strings.ToLower(q.Get("order")) {
	case "", "asc":
	case "desc":
		p.Desc = true
	default:
		bad = append(bad, sdkauth.FieldError{Name: "order", Reason: "must be asc or desc"})
	}
	if p.Provisioning != "" && !slices.Contains(users.States, p.Provisioning) {
		bad = append(bad, sdkauth.FieldError{Name: "provisioning", Reason: "must be pending, provisioned, deprovisioning or failed"})
	}
	if s := q.Get("disabled"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			bad = append(bad, sdkauth.FieldError{Name: "disabled", Reason: "must be true or false"})
		}
		p.Disabled = &b
	}
	for name, dst := range map[string]*time.Time{"created_after": &p.CreatedAfter, "created_before": &p.CreatedBefore} {
		if s := q.Get(name); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				bad = append(bad, sdkauth.FieldError{Name: name, Reason: "must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z"})
			}
			*dst = t
		}
	}
	if len(bad) > 0 {
		return p, sdkauth.Invalid(bad...)
	}
	return p, nil
}

// adminUserToken mints a user token within the user's policy, for backend
// services acting for a user. There is no refresh token.
func (h *handlers) adminUserToken(c *gin.Context) error {
	var req struct {
		TTL *int64          `json:"ttl"`
		ACL json.RawMessage `json:"acl"`
	}
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	ask, err := tokenRequest{TTL: req.TTL, ACL: req.ACL}.ask()
	if err != nil {
		return err
	}
	u, err := h.pathUser(c)
	if err != nil {
		return err
	}
	out, err := h.Tokens.MintOnBehalf(c.Request.Context(), u, ask)
	if err != nil {
		return err
	}
	writeToken(c, http.StatusOK, newTokenBody(out))
	return nil
}

type adminUpdateUserRequest struct {
	DisplayName *string `json:"display_name"`
	ImageURL    *string `json:"image_url"`
	Disabled    *bool   `json:"disabled"`
	Policy      *string `json:"policy"`
}

// adminUpdateUser changes a user's profile (propagated to Vonage), policy
// (from the next token) and whether it is disabled. Every field is checked
// before anything is written.
func (h *handlers) adminUpdateUser(c *gin.Context) error {
	var req adminUpdateUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.pathUser(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	if req.Policy != nil {
		if err := h.Policies.CheckExists(ctx, "policy", *req.Policy); err != nil {
			return err
		}
	}
	if u, err = h.Users.UpdateProfile(ctx, u.ID, users.ProfileUpdate{DisplayName: req.DisplayName, ImageURL: req.ImageURL}); err != nil {
		return err
	}
	if req.Policy != nil && *req.Policy != u.Policy {
		if err := h.Policies.SetUserPolicy(ctx, u.ID, *req.Policy); err != nil {
			return err
		}
	}
	if req.Disabled != nil && *req.Disabled != u.Disabled {
		if _, err := h.Users.SetDisabled(ctx, u.ID, *req.Disabled); err != nil {
			return err
		}
	}
	if u, err = h.Users.Get(ctx, u.ID); err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, "application/json", newUserBody(u))
	return nil
}

// adminDeleteUser deletes a user, its sessions and (through the outbox) its
// Vonage user; the name stays reserved while tokens naming it may live.
func (h *handlers) adminDeleteUser(c *gin.Context) error {
	u, err := h.pathUser(c)
	if err == nil {
		err = h.Users.Remove(c.Request.Context(), u.ID)
	}
	if err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// adminRevokeSessions ends every session of a user; its refresh tokens stop
// working at once.
func (h *handlers) adminRevokeSessions(c *gin.Context) error {
	u, err := h.pathUser(c)
	if err != nil {
		return err
	}
	n, err := h.Sessions.LogoutAll(c.Request.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(c, http.StatusOK, "application/json", gin.H{"revoked": n})
	return nil
}
