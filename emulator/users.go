package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
)

// User is a snapshot of a Vonage user, for test assertions.
type User struct {
	ID, Name, DisplayName, ImageURL string
	// Properties is the user's properties object; it always holds "custom_data".
	Properties map[string]any
	CreatedAt  time.Time
}

// user is a stored user. Its properties and channels maps are never mutated once
// stored (updates replace them), so views may read them after e.mu is released.
type user struct {
	seq                             uint64
	id, name, displayName, imageURL string
	properties                      map[string]any
	channels                        map[string]any
	createdAt                       time.Time
}

// userView is the full Users API representation of a user.
type userView struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	DisplayName string          `json:"display_name,omitempty"`
	ImageURL    string          `json:"image_url,omitempty"`
	Properties  map[string]any  `json:"properties"`
	Channels    map[string]any  `json:"channels,omitempty"`
	Links       map[string]link `json:"_links"`
}

// view renders the user with absolute links under base.
func (u *user) view(base string) userView {
	return userView{
		ID: u.id, Name: u.name, DisplayName: u.displayName, ImageURL: u.imageURL,
		Properties: u.properties, Channels: u.channels,
		Links: map[string]link{"self": {Href: base + "/v1/users/" + u.id}},
	}
}

// Users returns a snapshot of the users of an application, oldest first; nil
// for an unknown application.
func (e *Emulator) Users(applicationID string) []User {
	e.mu.Lock()
	defer e.mu.Unlock()
	app := e.apps[applicationID]
	if app == nil {
		return nil
	}
	out := make([]User, 0, len(app.users))
	for _, u := range app.usersInOrder() {
		out = append(out, User{
			ID: u.id, Name: u.name, DisplayName: u.displayName, ImageURL: u.imageURL,
			Properties: cloneJSON(u.properties), CreatedAt: u.createdAt,
		})
	}
	return out
}

// usersInOrder lists the application's users by creation; the caller holds e.mu.
func (a *application) usersInOrder() []*user {
	all := make([]*user, 0, len(a.users))
	for _, u := range a.users {
		all = append(all, u)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	return all
}

// userExists reports whether the application has a user with that name.
func (e *Emulator) userExists(appID, name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	app := e.apps[appID]
	return app != nil && app.byName[name] != nil
}

// errUserNotFound is the platform's 404 for a user id it does not know.
var errUserNotFound = errNotFound(codeUserNotFound, "User does not exist, or you do not have access.")

// errDuplicateName is the 409 naming a taken user name.
func errDuplicateName(name string) *apiError {
	return &apiError{status: http.StatusConflict, code: codeDuplicateName, title: "Conflict",
		detail: fmt.Sprintf("User with name '%s' already exists.", name)}
}

// userInput is a validated create or update body; each *Set flag says the member
// was given (possibly as null, which clears it).
type userInput struct {
	name                        string
	nameSet                     bool
	displayName, imageURL       string
	displayNameSet, imageURLSet bool
	properties                  map[string]any
	propertiesSet               bool
	channels                    map[string]any
	channelsSet                 bool
}

// readUserInput validates a user body. name, when given, must be a non-empty
// string; image_url an absolute http(s) URL or empty; properties an object whose
// custom_data, when given, is an object; channels an object.
func readUserInput(w http.ResponseWriter, r *http.Request) (userInput, bool) {
	obj, bad := readObject(r)
	if bad != nil {
		writeValidation(w, *bad)
		return userInput{}, false
	}
	var v validator
	var in userInput
	var null bool
	in.name, in.nameSet, null = v.str(obj, "name", "name")
	if in.nameSet && (null || strings.TrimSpace(in.name) == "") {
		v.fail("name", `"name" must be a non-empty string`)
	}
	in.displayName, in.displayNameSet, _ = v.str(obj, "display_name", "display_name")
	in.imageURL, in.imageURLSet, _ = v.str(obj, "image_url", "image_url")
	if in.imageURL != "" && !absoluteURL(in.imageURL) {
		v.fail("image_url", `"image_url" must be a valid uri`)
	}
	in.properties, in.propertiesSet, _ = v.object(obj, "properties", "properties")
	if cd, has := in.properties["custom_data"]; has && cd != nil {
		if _, isObj := cd.(map[string]any); !isObj {
			v.fail("properties.custom_data", `"custom_data" must be an object`)
		}
	}
	in.channels, in.channelsSet, _ = v.object(obj, "channels", "channels")
	if !v.ok() {
		writeValidation(w, v.params...)
		return userInput{}, false
	}
	return in, true
}

// mergeProperties returns a new properties object: base with the given members
// replaced, and custom_data always present as an object.
func mergeProperties(base, given map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(given)+1)
	for k, v := range base {
		out[k] = v
	}
	for k, v := range given {
		out[k] = v
	}
	if cd, ok := out["custom_data"].(map[string]any); !ok || cd == nil {
		out["custom_data"] = map[string]any{}
	}
	return out
}

// createUser handles POST /v1/users (201). Vonage generates a name when none is given.
func (e *Emulator) createUser(w http.ResponseWriter, r *http.Request, c caller) {
	in, ok := readUserInput(w, r)
	if !ok {
		return
	}
	if !in.nameSet {
		in.name = "NAM-" + uuid.NewString()
	}
	u := &user{
		id: "USR-" + uuid.NewString(), name: in.name,
		displayName: in.displayName, imageURL: in.imageURL,
		properties: mergeProperties(nil, in.properties), channels: in.channels,
		createdAt: e.now(),
	}
	e.answer(w, c, http.StatusCreated, func(app *application) (any, *apiError) {
		if app.byName[u.name] != nil {
			return nil, errDuplicateName(u.name)
		}
		app.userSeq++
		u.seq = app.userSeq
		app.users[u.id] = u
		app.byName[u.name] = u
		return u.view(baseURL(r)), nil
	})
}

// getUser handles GET /{v}/users/{id}, where "me" is the token's own user.
func (e *Emulator) getUser(w http.ResponseWriter, r *http.Request, c caller) {
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		u, aerr := app.pathUser(r.PathValue("id"), c)
		if aerr != nil {
			return nil, aerr
		}
		return u.view(baseURL(r)), nil
	})
}

// updateUser handles PATCH /v1/users/{id}: given members replace stored ones
// (null clears display_name, image_url, channels and resets properties);
// properties members are merged one level deep. A new name must stay unique.
func (e *Emulator) updateUser(w http.ResponseWriter, r *http.Request, c caller) {
	in, ok := readUserInput(w, r)
	if !ok {
		return
	}
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		return app.patchUser(r.PathValue("id"), in, baseURL(r))
	})
}

// patchUser applies a validated update and returns the new view; the caller
// holds e.mu.
func (app *application) patchUser(id string, in userInput, base string) (any, *apiError) {
	old := app.users[id]
	if old == nil {
		return nil, errUserNotFound
	}
	if in.nameSet && in.name != old.name && app.byName[in.name] != nil {
		return nil, errDuplicateName(in.name)
	}
	u := *old
	if in.nameSet {
		u.name = in.name
	}
	if in.displayNameSet {
		u.displayName = in.displayName
	}
	if in.imageURLSet {
		u.imageURL = in.imageURL
	}
	if in.propertiesSet {
		if in.properties == nil {
			u.properties = mergeProperties(nil, nil)
		} else {
			u.properties = mergeProperties(old.properties, in.properties)
		}
	}
	if in.channelsSet {
		u.channels = in.channels
	}
	delete(app.byName, old.name)
	app.users[u.id] = &u
	app.byName[u.name] = &u
	return u.view(base), nil
}

// deleteUser handles DELETE /v1/users/{id} (204).
func (e *Emulator) deleteUser(w http.ResponseWriter, r *http.Request, c caller) {
	e.mu.Lock()
	var u *user
	if app := e.apps[c.appID]; app != nil {
		if u = app.users[r.PathValue("id")]; u != nil {
			delete(app.users, u.id)
			delete(app.byName, u.name)
		}
	}
	e.mu.Unlock()
	if u == nil {
		errUserNotFound.write(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
