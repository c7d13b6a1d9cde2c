package emulator_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// listPage returns the names on a list page.
func listPage(t *testing.T, r response) []string {
	t.Helper()
	if r.body["page_size"] == nil {
		t.Fatalf("no page_size: %s", r.raw)
	}
	emb, _ := r.body["_embedded"].(map[string]any)
	users, ok := emb["users"].([]any)
	if !ok {
		t.Fatalf("no _embedded.users: %s", r.raw)
	}
	var names []string
	for _, u := range users {
		m := u.(map[string]any)
		self := m["_links"].(map[string]any)["self"].(map[string]any)["href"].(string)
		if !strings.HasSuffix(self, "/v1/users/"+m["id"].(string)) || !strings.HasPrefix(self, "http") {
			t.Errorf("user self href %q", self)
		}
		names = append(names, m["name"].(string))
	}
	return names
}

func TestListPagingFollowsNext(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var want []string
	for i := range 25 {
		name := fmt.Sprintf("user-%02d", i)
		e.createUser(name)
		want = append(want, name)
	}
	token := e.admin()
	for _, order := range []string{"asc", "DESC"} {
		var got []string
		url := "/v1/users?page_size=7&order=" + order
		pages := 0
		var second response
		for url != "" {
			r := e.do("GET", url, token, nil).want(t, http.StatusOK)
			if r.header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type = %q", r.header.Get("Content-Type"))
			}
			for _, rel := range []string{"first", "self", "next", "prev"} {
				if h := r.href(rel); h != "" && !strings.HasPrefix(h, e.srv.URL+"/v1/users?") {
					t.Errorf("%s href %q is not absolute", rel, h)
				}
			}
			if r.href("first") == "" || r.href("self") == "" {
				t.Errorf("first/self missing: %s", r.raw)
			}
			if pages == 1 {
				second = r
			}
			got = append(got, listPage(t, r)...)
			url = r.href("next")
			pages++
		}
		expect := slices.Clone(want)
		if order == "DESC" {
			slices.Reverse(expect)
		}
		if !slices.Equal(got, expect) {
			t.Errorf("order %s: paged names %v, want %v", order, got, expect)
		}
		if pages != 4 {
			t.Errorf("order %s: %d pages, want 4", order, pages)
		}
		// prev from the second page leads back to the first.
		prev := e.do("GET", second.href("prev"), token, nil).want(t, http.StatusOK)
		if p := listPage(t, prev); !slices.Equal(p, expect[:7]) {
			t.Errorf("order %s: prev page %v, want %v", order, p, expect[:7])
		}
		if prev.href("prev") != "" {
			t.Errorf("first page has a prev link")
		}
	}
}

func TestListPagingIsStableUnderChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := map[string]string{}
	for i := range 10 {
		name := fmt.Sprintf("s-%02d", i)
		ids[name] = e.createUser(name)
	}
	first := e.do("GET", "/v1/users?page_size=4", e.admin(), nil).want(t, 200)
	// Deleting an already listed user and adding a new one must not shift the
	// next page (no duplicates, no gaps).
	e.do("DELETE", "/v1/users/"+ids["s-01"], e.admin(), nil).want(t, 204)
	e.createUser("s-10")
	next := e.do("GET", first.href("next"), e.admin(), nil).want(t, 200)
	if got := listPage(t, next); !slices.Equal(got, []string{"s-04", "s-05", "s-06", "s-07"}) {
		t.Errorf("next page after changes = %v", got)
	}
}

func TestListDefaultsAndEmpty(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do("GET", "/v1/users", e.admin(), nil).want(t, 200)
	if r.body["page_size"] != 10.0 || len(listPage(t, r)) != 0 || r.href("next") != "" {
		t.Errorf("empty list: %s", r.raw)
	}
	if !strings.Contains(r.href("self"), "order=asc") || !strings.Contains(r.href("self"), "page_size=10") {
		t.Errorf("self href %q", r.href("self"))
	}
	for i := range 10 {
		e.createUser(fmt.Sprintf("d-%d", i))
	}
	if r := e.do("GET", "/v1/users", e.admin(), nil).want(t, 200); len(listPage(t, r)) != 10 || r.href("next") != "" {
		t.Errorf("exactly one full page must have no next: %s", r.raw)
	}
}

func TestListNameFilterIsExact(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, n := range []string{"newuser", "newuser2", "NewUser", "anewuser"} {
		e.createUser(n)
	}
	r := e.do("GET", "/v1/users?name=newuser", e.admin(), nil).want(t, 200)
	if got := listPage(t, r); !slices.Equal(got, []string{"newuser"}) {
		t.Errorf("name=newuser gave %v", got)
	}
	if !strings.Contains(r.href("self"), "name=newuser") {
		t.Errorf("self href %q drops the filter", r.href("self"))
	}
	r = e.do("GET", "/v1/users?name=nobody", e.admin(), nil).want(t, 200)
	if got := listPage(t, r); len(got) != 0 {
		t.Errorf("name=nobody gave %v", got)
	}
}

func TestListValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, n := range []string{"x", "y", "z"} {
		e.createUser(n)
	}
	desc := e.do("GET", "/v1/users?order=desc&page_size=1", e.admin(), nil).want(t, 200).href("next")
	cursor := desc[strings.Index(desc, "cursor=")+len("cursor="):]
	cases := map[string]string{
		"page_size=0":                "page_size",
		"page_size=101":              "page_size",
		"page_size=ten":              "page_size",
		"order=sideways":             "order",
		"cursor=%%%":                 "query",
		"cursor=!!!":                 "cursor",
		"cursor=bm9wZQ%3D%3D":        "cursor",
		"order=asc&cursor=" + cursor: "cursor",
	}
	for query, param := range cases {
		r := e.do("GET", "/v1/users?"+query, e.admin(), nil).wantProblem(t, http.StatusBadRequest, "http:error:validation-fail")
		if names := r.invalidParams(); !slices.Contains(names, param) {
			t.Errorf("%s: invalid_parameters %v, want %s", query, names, param)
		}
	}
	for _, ok := range []string{"page_size=1", "page_size=100", "order=ASC", "order=Desc"} {
		e.do("GET", "/v1/users?"+ok, e.admin(), nil).want(t, 200)
	}
}

func TestListHonoursForwardedProto(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser("p1")
	e.createUser("p2")
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/users?page_size=1", nil)
	req.Header.Set("Authorization", "Bearer "+e.admin())
	req.Header.Set("X-Forwarded-Proto", "https")
	r := send(t, req).want(t, 200)
	host := strings.TrimPrefix(e.srv.URL, "http://")
	for _, rel := range []string{"first", "self", "next"} {
		if h := r.href(rel); !strings.HasPrefix(h, "https://"+host+"/v1/users?") {
			t.Errorf("%s href %q, want https://%s/…", rel, h, host)
		}
	}
}
