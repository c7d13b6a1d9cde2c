package emulator_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/internal/testkit"
)

// versions runs a test once per Conversation API version the emulator serves.
func versions(t *testing.T, f func(t *testing.T, e *env, v string)) {
	for _, v := range []string{"v0.3", "v1"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			f(t, newEnv(t), v)
		})
	}
}

// clientSDKACL is the default Client SDK policy sdkauth puts in user tokens.
func clientSDKACL() map[string]any {
	paths := map[string]any{}
	for _, p := range []string{"users", "conversations", "sessions", "devices", "image", "media", "applications", "push", "knocking", "legs", "rtc"} {
		paths["/*/"+p+"/**"] = map[string]any{}
	}
	return map[string]any{"paths": paths}
}

// createConv creates a conversation with an admin token and returns its id.
func (e *env) createConv(v, name string) string {
	e.t.Helper()
	return e.do("POST", "/"+v+"/conversations", e.admin(), map[string]any{"name": name}).want(e.t, 201).str("id")
}

// join makes the user behind token a joined member and returns the member id.
func (e *env) join(v, cid, token, userName string) string {
	e.t.Helper()
	return e.do("POST", "/"+v+"/conversations/"+cid+"/members", token,
		map[string]any{"state": "joined", "user": map[string]any{"name": userName}}).want(e.t, 201).str("id")
}

// embedded returns the items a listing embeds under key (v1 events embed the
// array itself).
func (r response) embedded(key string) []map[string]any {
	var raw []any
	switch emb := r.body["_embedded"].(type) {
	case []any:
		raw = emb
	case map[string]any:
		raw, _ = emb[key].([]any)
	}
	out := make([]map[string]any, 0, len(raw))
	for _, it := range raw {
		m, _ := it.(map[string]any)
		out = append(out, m)
	}
	return out
}

func TestConversationsCRUD(t *testing.T) {
	t.Parallel()
	versions(t, func(t *testing.T, e *env, v string) {
		base := "/" + v + "/conversations"
		r := e.do("POST", base, e.admin(), map[string]any{
			"name": "support", "display_name": "Support", "image_url": "https://example.com/c.png",
			"properties": map[string]any{"ttl": 60, "custom_data": map[string]any{"team": "a"}},
		}).want(t, 201)
		id := r.str("id")
		if !strings.HasPrefix(id, "CON-") || r.str("state") != "ACTIVE" || r.body["sequence_number"] != float64(0) {
			t.Fatalf("created = %s", r.raw)
		}
		if got, want := r.href("self"), e.srv.URL+base+"/"+id; got != want {
			t.Errorf("self = %q, want %q", got, want)
		}
		e.do("POST", base, e.admin(), map[string]any{"name": "support"}).wantProblem(t, 409, "conversation:error:duplicate-name")

		got := e.do("GET", base+"/"+id, e.admin(), nil).want(t, 200)
		if got.str("display_name") != "Support" || got.body["properties"].(map[string]any)["ttl"] != float64(60) {
			t.Errorf("get = %s", got.raw)
		}
		e.do("PUT", base+"/"+id, e.admin(), map[string]any{"display_name": "Help desk"}).want(t, 200)
		if e.do("GET", base+"/"+id, e.admin(), nil).str("display_name") != "Help desk" {
			t.Error("update did not stick")
		}
		other := e.createConv(v, "other")
		e.do("PUT", base+"/"+other, e.admin(), map[string]any{"name": "support"}).wantProblem(t, 409, "conversation:error:duplicate-name")

		e.do("DELETE", base+"/"+id, e.admin(), nil).want(t, 204)
		e.do("GET", base+"/"+id, e.admin(), nil).wantProblem(t, 404, "conversation:error:not-found")
		e.do("DELETE", base+"/"+id, e.admin(), nil).wantProblem(t, 404, "conversation:error:not-found")
		e.do("POST", base, e.admin(), map[string]any{"name": "support"}).want(t, 201) // the name is free again
	})
}

func TestConversationInputIsValidatedByName(t *testing.T) {
	t.Parallel()
	versions(t, func(t *testing.T, e *env, v string) {
		base := "/" + v + "/conversations"
		cases := []struct {
			body any
			name string
		}{
			{map[string]any{"name": 7}, "name"},
			{map[string]any{"name": ""}, "name"},
			{map[string]any{"name": strings.Repeat("n", 101)}, "name"},
			{map[string]any{"display_name": true}, "display_name"},
			{map[string]any{"image_url": "not a url"}, "image_url"},
			{map[string]any{"properties": "x"}, "properties"},
			{map[string]any{"properties": map[string]any{"ttl": -1}}, "properties.ttl"},
			{map[string]any{"properties": map[string]any{"custom_data": 3}}, "properties.custom_data"},
			{map[string]any{"numbers": "447700900000"}, "numbers"},
			{[]any{1}, "body"},
		}
		for _, c := range cases {
			r := e.do("POST", base, e.admin(), c.body).wantProblem(t, 400, "http:error:validation-fail")
			if !slices.Contains(r.invalidParams(), c.name) {
				t.Errorf("%v: invalid_parameters = %v, want %q", c.body, r.invalidParams(), c.name)
			}
		}
		id := e.createConv(v, "c")
		r := e.do("PUT", base+"/"+id, e.admin(), map[string]any{"image_url": 5}).wantProblem(t, 400, "http:error:validation-fail")
		if !slices.Contains(r.invalidParams(), "image_url") {
			t.Errorf("update invalid_parameters = %v", r.invalidParams())
		}
		for _, q := range []string{"page_size=0", "page_size=101", "page_size=x", "order=up", "cursor=zzz", "date_start=yesterday"} {
			r := e.do("GET", base+"?"+q, e.admin(), nil).wantProblem(t, 400, "http:error:validation-fail")
			if name, _, _ := strings.Cut(q, "="); !slices.Contains(r.invalidParams(), name) {
				t.Errorf("%s: invalid_parameters = %v", q, r.invalidParams())
			}
		}
	})
}

func TestConversationListPagesBothWays(t *testing.T) {
	t.Parallel()
	versions(t, func(t *testing.T, e *env, v string) {
		var ids []string
		for i := range 7 {
			ids = append(ids, e.createConv(v, fmt.Sprintf("c%d", i)))
		}
		for _, order := range []string{"asc", "DESC"} {
			want := slices.Clone(ids)
			if order == "DESC" {
				slices.Reverse(want)
			}
			var got []string
			next := "/" + v + "/conversations?page_size=3&order=" + order
			var pages []response
			for next != "" {
				r := e.do("GET", next, e.admin(), nil).want(t, 200)
				if !strings.HasPrefix(r.href("self"), e.srv.URL+"/"+v+"/conversations?") || r.href("first") == "" {
					t.Fatalf("links = %v", r.body["_links"])
				}
				for _, c := range r.embedded("conversations") {
					got = append(got, c["id"].(string))
				}
				pages = append(pages, r)
				next = r.href("next")
			}
			if !slices.Equal(got, want) || len(pages) != 3 {
				t.Fatalf("order %s: got %v in %d pages, want %v", order, got, len(pages), want)
			}
			back := e.do("GET", pages[2].href("prev"), e.admin(), nil).want(t, 200).embedded("conversations")
			if len(back) != 3 || back[0]["id"] != want[3] {
				t.Errorf("prev page = %v", back)
			}
		}
		future := url.QueryEscape("2999-01-01T00:00:00Z")
		if n := len(e.do("GET", "/"+v+"/conversations?date_start="+future, e.admin(), nil).want(t, 200).embedded("conversations")); n != 0 {
			t.Errorf("date_start in the future listed %d", n)
		}
		past := url.QueryEscape("2000-01-01T00:00:00Z")
		if n := len(e.do("GET", "/"+v+"/conversations?page_size=100&date_start="+past+"&date_end="+future, e.admin(), nil).want(t, 200).embedded("conversations")); n != 7 {
			t.Errorf("date window listed %d, want 7", n)
		}
	})
}

func TestUserTokensAreHeldToTheirACL(t *testing.T) {
	t.Parallel()
	versions(t, func(t *testing.T, e *env, v string) {
		e.createUser("new-user")
		cid := e.createConv(v, "c")
		full := e.userToken("new-user", clientSDKACL())
		mid := e.join(v, cid, full, "new-user")

		readOnly := e.userToken("new-user", map[string]any{"paths": map[string]any{
			"/*/conversations/**": map[string]any{"methods": []string{"GET"}},
		}})
		e.do("GET", "/"+v+"/conversations/"+cid+"/events", readOnly, nil).want(t, 200)
		e.do("POST", "/"+v+"/conversations/"+cid+"/events", readOnly,
			map[string]any{"type": "text", "from": mid, "body": map[string]any{"text": "hi"}}).wantProblem(t, 403, "system:error:permission")
		e.do("GET", "/"+v+"/users/me", readOnly, nil).wantProblem(t, 403, "system:error:permission")
		e.do("GET", "/"+v+"/conversations", "", nil).wantProblem(t, 401, "system:error:invalid-token")
		other := sign(t, testkit.Key(t, 1), claims(e.appID))
		e.do("GET", "/"+v+"/conversations", other, nil).wantProblem(t, 401, "system:error:invalid-token")
		expired := claims(e.appID)
		expired["iat"], expired["exp"] = float64(1000), float64(1900)
		e.do("GET", "/"+v+"/conversations", sign(t, e.key, expired), nil).wantProblem(t, 401, "system:error:expired-token")
	})
}

func TestUsersMeAndUserConversations(t *testing.T) {
	t.Parallel()
	versions(t, func(t *testing.T, e *env, v string) {
		uid := e.createUser("new-user")
		tok := e.userToken("new-user", clientSDKACL())
		me := e.do("GET", "/"+v+"/users/me", tok, nil).want(t, 200)
		if me.str("id") != uid || me.str("name") != "new-user" {
			t.Errorf("users/me = %s", me.raw)
		}
		e.do("GET", "/"+v+"/users/me", e.admin(), nil).wantProblem(t, 404, "user:error:not-found")
		e.do("GET", "/"+v+"/users/"+uid, e.admin(), nil).want(t, 200)

		a, b := e.createConv(v, "a"), e.createConv(v, "b")
		e.createConv(v, "not-mine")
		e.join(v, a, tok, "new-user")
		e.do("POST", "/"+v+"/conversations/"+b+"/members", e.admin(),
			map[string]any{"state": "invited", "user": map[string]any{"id": uid}}).want(t, 201)
		list := e.do("GET", "/"+v+"/users/"+uid+"/conversations", tok, nil).want(t, 200).embedded("conversations")
		if len(list) != 2 || list[0]["id"] != a || list[1]["id"] != b {
			t.Fatalf("user conversations = %v", list)
		}
		if st := list[1]["_embedded"].(map[string]any)["member"].(map[string]any)["state"]; st != "INVITED" {
			t.Errorf("member state in listing = %v", st)
		}
		e.do("GET", "/"+v+"/users/USR-00000000-0000-4000-8000-000000000000/conversations", e.admin(), nil).wantProblem(t, 404, "user:error:not-found")
	})
}

func TestUnknownConversationPathsAnswerInVonageShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do("GET", "/v0.2/conversations", e.admin(), nil).wantProblem(t, 404, "http:error:not-found")
	r := e.do("POST", "/v1/conversations/CON-x/events/1", e.admin(), nil).wantProblem(t, 405, "http:error:method-not-allowed")
	if r.header.Get("Allow") != "DELETE, GET" {
		t.Errorf("Allow = %q", r.header.Get("Allow"))
	}
}

func TestRepeatedSlashesAreReadAsOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser("new-user")
	tok := e.userToken("new-user", clientSDKACL())
	e.do("POST", "//v1/conversations", tok, map[string]any{"name": "c"}).want(t, 201)
	e.do("GET", "//v1//conversations", tok, nil).want(t, 200)
}
