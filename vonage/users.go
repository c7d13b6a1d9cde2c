package vonage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// User is a Vonage user (Users API v1). Name is unique per application and
// is what user JWTs carry as sub; ID is Vonage's "USR-…" identifier.
type User struct {
	ID          string          `json:"id,omitempty"`
	Name        string          `json:"name,omitempty"`
	DisplayName string          `json:"display_name,omitempty"`
	ImageURL    string          `json:"image_url,omitempty"`
	Properties  *UserProperties `json:"properties,omitempty"`
}

// UserProperties are a user's custom data and time to live. sdkauth keeps
// custom_data.sdkauth_user_id there to mark the users it owns.
type UserProperties struct {
	CustomData map[string]any `json:"custom_data,omitempty"`
	TTL        int            `json:"ttl,omitempty"`
}

// UserUpdate is a partial update: only non-nil fields are sent, so a
// pointer to "" clears a field while nil leaves it alone. Properties, when
// set, replaces the user's properties as a whole.
type UserUpdate struct {
	Name        *string
	DisplayName *string
	ImageURL    *string
	Properties  *UserProperties
}

// ListUsersParams filter and page a user listing; zero values are not sent.
// Name is an exact match; Order is "asc" or "desc"; Cursor is normally left
// empty, NextUsers following the links Vonage returns instead.
type ListUsersParams struct {
	PageSize int
	Order    string
	Name     string
	Cursor   string
}

// UserPage is one page of users. NextHref is the absolute URL of the next
// page, empty on the last one.
type UserPage struct {
	Users    []User
	NextHref string
}

// errEmptyID guards against a request on "/v1/users/", which would list
// users instead of addressing one.
var errEmptyID = errors.New("vonage: empty id")

// CreateUser creates u and returns the user as Vonage stored it, with its
// ID. A taken name is an *Error for which HasCode(err, CodeDuplicateName)
// is true; other failures are *Error answers or transport errors (see
// IsRetryable).
func (c *Client) CreateUser(ctx context.Context, u User) (User, error) {
	var out User
	err := c.do(ctx, http.MethodPost, "/v1/users", bearerAuth, u, &out)
	return out, err
}

// GetUser returns the user with the given ID. An unknown ID is an *Error
// for which IsNotFound is true.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	if id == "" {
		return User{}, errEmptyID
	}
	var out User
	err := c.do(ctx, http.MethodGet, userPath(id), bearerAuth, nil, &out)
	return out, err
}

// UpdateUser sends the non-nil fields of u with PATCH and returns the
// updated user. Errors are as for GetUser and CreateUser.
func (c *Client) UpdateUser(ctx context.Context, id string, u UserUpdate) (User, error) {
	if id == "" {
		return User{}, errEmptyID
	}
	patch := struct {
		Name        *string         `json:"name,omitempty"`
		DisplayName *string         `json:"display_name,omitempty"`
		ImageURL    *string         `json:"image_url,omitempty"`
		Properties  *UserProperties `json:"properties,omitempty"`
	}{u.Name, u.DisplayName, u.ImageURL, u.Properties}
	var out User
	err := c.do(ctx, http.MethodPatch, userPath(id), bearerAuth, patch, &out)
	return out, err
}

// DeleteUser deletes the user with the given ID. Deleting a user that does
// not exist is an *Error for which IsNotFound is true; callers that retry a
// deletion treat that as done.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	if id == "" {
		return errEmptyID
	}
	return c.do(ctx, http.MethodDelete, userPath(id), bearerAuth, nil, nil)
}

func userPath(id string) string { return "/v1/users/" + url.PathEscape(id) }

// ListUsers returns the first page of users matching p.
func (c *Client) ListUsers(ctx context.Context, p ListUsersParams) (UserPage, error) {
	q := url.Values{}
	if p.PageSize > 0 {
		q.Set("page_size", strconv.Itoa(p.PageSize))
	}
	if p.Order != "" {
		q.Set("order", p.Order)
	}
	if p.Name != "" {
		q.Set("name", p.Name)
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	target := "/v1/users"
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return c.usersPage(ctx, target)
}

// NextUsers returns the page at nextHref, a UserPage.NextHref, following it
// as given: Vonage's links are absolute and carry the cursor and filters.
func (c *Client) NextUsers(ctx context.Context, nextHref string) (UserPage, error) {
	if nextHref == "" {
		return UserPage{}, errors.New("vonage: NextUsers: empty href")
	}
	return c.usersPage(ctx, nextHref)
}

func (c *Client) usersPage(ctx context.Context, target string) (UserPage, error) {
	var body struct {
		Embedded struct {
			Users []User `json:"users"`
		} `json:"_embedded"`
		Links struct {
			Next struct {
				Href string `json:"href"`
			} `json:"next"`
		} `json:"_links"`
	}
	if err := c.do(ctx, http.MethodGet, target, bearerAuth, nil, &body); err != nil {
		return UserPage{}, err
	}
	return UserPage{Users: body.Embedded.Users, NextHref: body.Links.Next.Href}, nil
}

// EachUser calls fn for every user matching p, following the next links to
// the last page. It stops at the first error, from Vonage or from fn, and
// returns it unchanged; it also stops with an error if Vonage links back to
// a page already visited, rather than looping forever.
func (c *Client) EachUser(ctx context.Context, p ListUsersParams, fn func(User) error) error {
	page, err := c.ListUsers(ctx, p)
	seen := map[string]bool{}
	for {
		if err != nil {
			return err
		}
		for _, u := range page.Users {
			if err := fn(u); err != nil {
				return err
			}
		}
		next := page.NextHref
		if next == "" {
			return nil
		}
		if seen[next] {
			return fmt.Errorf("vonage: listing users: next link %q repeats", next)
		}
		seen[next] = true
		page, err = c.NextUsers(ctx, next)
	}
}

// FindUserByName returns the user whose name is exactly name. When there is
// none it returns an *Error with status 404, for which IsNotFound is true;
// other errors are as for ListUsers.
func (c *Client) FindUserByName(ctx context.Context, name string) (User, error) {
	if name == "" {
		return User{}, errors.New("vonage: FindUserByName: empty name")
	}
	var found User
	stop := errors.New("found")
	err := c.EachUser(ctx, ListUsersParams{Name: name, PageSize: 100}, func(u User) error {
		// The filter is documented as exact, but comparing again costs
		// nothing and protects against a prefix or case-folding match.
		if u.Name == name {
			found = u
			return stop
		}
		return nil
	})
	switch {
	case errors.Is(err, stop):
		return found, nil
	case err != nil:
		return User{}, err
	}
	return User{}, &Error{Status: http.StatusNotFound, Title: http.StatusText(http.StatusNotFound),
		Detail: fmt.Sprintf("no user named %q", name), Method: http.MethodGet, Path: "/v1/users"}
}
