package vonage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestUserCRUD(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/users":
			writeJSON(w, http.StatusCreated, map[string]any{"id": "USR-1", "name": "new-user", "display_name": "New User",
				"properties": map[string]any{"custom_data": map[string]any{"sdkauth_user_id": "u1"}},
				"_links":     map[string]any{"self": map[string]any{"href": "x"}}})
		case r.Method == http.MethodGet && r.URL.Path == "/v1/users/USR-1":
			writeJSON(w, http.StatusOK, map[string]any{"id": "USR-1", "name": "new-user", "display_name": "New User", "channels": map[string]any{}})
		case r.Method == http.MethodPatch && r.URL.Path == "/v1/users/USR-1":
			writeJSON(w, http.StatusOK, map[string]any{"id": "USR-1", "name": "new-user", "display_name": "Renamed User"})
		case r.Method == http.MethodDelete && r.URL.Path == "/v1/users/USR-1":
			w.WriteHeader(http.StatusNoContent)
		default:
			writeProblem(w, http.StatusNotFound, `{"title":"Not found."}`)
		}
	})
	c := f.client()
	ctx := context.Background()

	created, err := c.CreateUser(ctx, User{Name: "new-user", DisplayName: "New User",
		Properties: &UserProperties{CustomData: map[string]any{"sdkauth_user_id": "u1"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := User{ID: "USR-1", Name: "new-user", DisplayName: "New User", Properties: &UserProperties{CustomData: map[string]any{"sdkauth_user_id": "u1"}}}
	if !reflect.DeepEqual(created, want) {
		t.Fatalf("created = %+v, want %+v", created, want)
	}
	post := f.last(t)
	if got := decodeBody(t, post); !reflect.DeepEqual(got, map[string]any{"name": "new-user", "display_name": "New User",
		"properties": map[string]any{"custom_data": map[string]any{"sdkauth_user_id": "u1"}}}) {
		t.Fatalf("POST body = %v", got)
	}
	checkHeaders(t, post, true)

	got, err := c.GetUser(ctx, "USR-1")
	if err != nil || got.DisplayName != "New User" {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	checkHeaders(t, f.last(t), false)

	name := "Renamed User"
	upd, err := c.UpdateUser(ctx, "USR-1", UserUpdate{DisplayName: &name})
	if err != nil || upd.DisplayName != "Renamed User" {
		t.Fatalf("UpdateUser = %+v, %v", upd, err)
	}
	checkHeaders(t, f.last(t), true)

	if err := c.DeleteUser(ctx, "USR-1"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if r := f.last(t); r.Method != http.MethodDelete || len(r.Body) != 0 {
		t.Fatalf("DELETE sent %s with body %q", r.Method, r.Body)
	}
	checkHeaders(t, f.last(t), false)

	for name, call := range map[string]func() error{
		"GetUser":    func() error { _, err := c.GetUser(ctx, ""); return err },
		"UpdateUser": func() error { _, err := c.UpdateUser(ctx, "", UserUpdate{}); return err },
		"DeleteUser": func() error { return c.DeleteUser(ctx, "") },
	} {
		if err := call(); err == nil {
			t.Errorf("%s with an empty id: no error", name)
		}
	}
	if n := len(f.requests()); n != 4 {
		t.Fatalf("server saw %d requests, want 4 (empty ids must not reach it)", n)
	}
}

func checkHeaders(t *testing.T, r request, hasBody bool) {
	t.Helper()
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("%s %s Authorization = %q", r.Method, r.Path, got)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("%s %s Accept = %q", r.Method, r.Path, got)
	}
	if got := r.Header.Get("User-Agent"); got != "sdkauth-test/1" {
		t.Errorf("%s %s User-Agent = %q", r.Method, r.Path, got)
	}
	ct := r.Header.Get("Content-Type")
	if hasBody && ct != "application/json" || !hasBody && ct != "" {
		t.Errorf("%s %s Content-Type = %q (body: %v)", r.Method, r.Path, ct, hasBody)
	}
}

func TestUpdateUserSendsOnlySetFields(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"id": "USR-1"})
	})
	c := f.client()
	empty, img := "", "https://example.com/a.png"
	tests := []struct {
		name string
		upd  UserUpdate
		want map[string]any
	}{
		{"display name only", UserUpdate{DisplayName: &img}, map[string]any{"display_name": img}},
		{"clear display name", UserUpdate{DisplayName: &empty}, map[string]any{"display_name": ""}},
		{"image and properties", UserUpdate{ImageURL: &img, Properties: &UserProperties{TTL: 60}},
			map[string]any{"image_url": img, "properties": map[string]any{"ttl": 60.0}}},
		{"nothing", UserUpdate{}, map[string]any{}},
	}
	for _, tt := range tests {
		if _, err := c.UpdateUser(context.Background(), "USR-1", tt.upd); err != nil {
			t.Fatal(err)
		}
		r := f.last(t)
		if r.Method != http.MethodPatch || r.Path != "/v1/users/USR-1" {
			t.Fatalf("%s: sent %s %s", tt.name, r.Method, r.Path)
		}
		if got := decodeBody(t, r); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: body = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestUserIDIsPathEscaped(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"id": "x"})
	})
	if _, err := f.client().GetUser(context.Background(), "../v2/applications?x=1"); err != nil {
		t.Fatal(err)
	}
	if r := f.last(t); r.EscapedPath != "/v1/users/..%2Fv2%2Fapplications%3Fx=1" || r.RawQuery != "" {
		t.Fatalf("path = %q, query = %q", r.EscapedPath, r.RawQuery)
	}
}

// pagedServer serves users u0..u(n-1), `size` per page, with absolute next
// links carrying an opaque cursor, as Vonage does.
func pagedServer(t *testing.T, n, size int) *fake {
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/users" {
			writeProblem(w, http.StatusNotFound, `{}`)
			return
		}
		start := 0
		if cur := r.URL.Query().Get("cursor"); cur != "" {
			if _, err := fmt.Sscanf(cur, "opaque-%d", &start); err != nil {
				writeProblem(w, http.StatusBadRequest, `{"title":"bad cursor"}`)
				return
			}
		}
		users := []map[string]any{}
		for i := start; i < min(start+size, n); i++ {
			users = append(users, map[string]any{"id": fmt.Sprintf("USR-%d", i), "name": fmt.Sprintf("u%d", i)})
		}
		links := map[string]any{"self": map[string]any{"href": f.URL + r.URL.RequestURI()}}
		if start+size < n {
			links["next"] = map[string]any{"href": fmt.Sprintf("%s/v1/users?order=asc&page_size=%d&cursor=opaque-%d", f.URL, size, start+size)}
		}
		writeJSON(w, http.StatusOK, map[string]any{"page_size": size, "_embedded": map[string]any{"users": users}, "_links": links})
	})
	return f
}

func TestPagingAcrossThreePages(t *testing.T) {
	t.Parallel()
	f := pagedServer(t, 7, 3)
	c := f.client()
	ctx := context.Background()

	page, err := c.ListUsers(ctx, ListUsersParams{PageSize: 3, Order: "asc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Users) != 3 || page.Users[0].Name != "u0" || !strings.HasPrefix(page.NextHref, f.URL+"/v1/users?") {
		t.Fatalf("first page = %+v", page)
	}
	if r := f.last(t); r.RawQuery != "order=asc&page_size=3" {
		t.Fatalf("first query = %q", r.RawQuery)
	}
	page, err = c.NextUsers(ctx, page.NextHref)
	if err != nil || len(page.Users) != 3 || page.Users[0].Name != "u3" {
		t.Fatalf("second page = %+v, %v", page, err)
	}
	if r := f.last(t); r.RawQuery != "order=asc&page_size=3&cursor=opaque-3" {
		t.Fatalf("second query = %q, want the href followed as given", r.RawQuery)
	}

	var names []string
	err = c.EachUser(ctx, ListUsersParams{PageSize: 3, Order: "asc"}, func(u User) error {
		names = append(names, u.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("EachUser saw %v, want %v", names, want)
	}
	if n := len(f.requests()); n != 2+3 {
		t.Fatalf("server saw %d requests, want 5", n)
	}
	for _, r := range f.requests() {
		checkHeaders(t, r, false)
	}

	stop := errors.New("stop")
	calls := 0
	err = c.EachUser(ctx, ListUsersParams{PageSize: 3}, func(User) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("EachUser with a failing fn: err = %v after %d calls", err, calls)
	}
}

func TestEachUserDetectsLinkLoop(t *testing.T) {
	t.Parallel()
	var f *fake
	f = newFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{
			"_embedded": map[string]any{"users": []any{map[string]any{"name": "a"}}},
			"_links":    map[string]any{"next": map[string]any{"href": f.URL + "/v1/users?cursor=same"}},
		})
	})
	err := f.client().EachUser(context.Background(), ListUsersParams{}, func(User) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "repeats") {
		t.Fatalf("err = %v, want a loop error", err)
	}
}

func TestFindUserByName(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		var users []any
		switch r.URL.Query().Get("name") {
		case "new-user":
			users = []any{map[string]any{"id": "USR-a", "name": "new-user"}}
		case "other-user":
			// A looser match than asked for must not be taken for other-user.
			users = []any{map[string]any{"id": "USR-b2", "name": "other-user2"}}
		}
		writeJSON(w, http.StatusOK, map[string]any{"_embedded": map[string]any{"users": users}, "_links": map[string]any{}})
	})
	c := f.client()
	u, err := c.FindUserByName(context.Background(), "new-user")
	if err != nil || u.ID != "USR-a" {
		t.Fatalf("new-user = %+v, %v", u, err)
	}
	if r := f.last(t); r.RawQuery != "name=new-user&page_size=100" {
		t.Fatalf("query = %q", r.RawQuery)
	}
	for _, name := range []string{"other-user", "third-user"} {
		_, err := c.FindUserByName(context.Background(), name)
		var e *Error
		if !IsNotFound(err) || !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || e.Status != http.StatusNotFound {
			t.Fatalf("%s: err = %v, want a 404 *Error", name, err)
		}
		if IsRetryable(err) {
			t.Fatalf("%s: not-found is retryable", name)
		}
	}
}
