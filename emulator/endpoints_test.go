package emulator_test

import (
	"slices"
	"strings"
	"testing"
)

// TestEveryConversationEndpointInBothVersions calls each Conversation API
// endpoint as /v0.3 and /v1: once as it should be called, once with bad input,
// which must answer a Vonage-shaped 400 naming the field.
func TestEveryConversationEndpointInBothVersions(t *testing.T) {
	t.Parallel()
	versions(t, func(t *testing.T, e *env, v string) {
		uid := e.createUser("new-user")
		tok := e.userToken("new-user", clientSDKACL())
		cid := e.createConv(v, "c")
		mid := e.join(v, cid, tok, "new-user")
		eid := "2"
		e.do("POST", "/"+v+"/conversations/"+cid+"/events", tok, textEvent(v, mid, "hi")).want(t, 201)
		conv := "/" + v + "/conversations/" + cid
		cases := []struct {
			method, path string
			good         any
			status       int
			bad          any    // a body, or nil to send badQuery
			badQuery     string // appended to path
			field        string
		}{
			{"POST", "/" + v + "/conversations", map[string]any{"name": "d"}, 201, map[string]any{"name": 1}, "", "name"},
			{"GET", "/" + v + "/conversations", nil, 200, nil, "?page_size=0", "page_size"},
			{"GET", conv, nil, 200, nil, "", ""},
			{"PUT", conv, map[string]any{"display_name": "C"}, 200, map[string]any{"properties": []int{}}, "", "properties"},
			{"GET", conv + "/members", nil, 200, nil, "?order=sideways", "order"},
			{"GET", conv + "/members/" + mid, nil, 200, nil, "", ""},
			{"GET", conv + "/members/me", nil, 200, nil, "", ""},
			{"POST", conv + "/members", map[string]any{"state": "invited", "user": map[string]any{"name": "other-user"}}, 201, map[string]any{"state": "asleep", "user": map[string]any{"name": "other-user"}}, "", "state"},
			{"PATCH", conv + "/members/" + mid, map[string]any{"state": "left"}, 200, map[string]any{"state": 3}, "", "state"},
			{"GET", conv + "/events", nil, 200, nil, "?start_id=x", "start_id"},
			{"POST", conv + "/events", map[string]any{"type": "custom:x", "from": "MEM-x"}, 404, map[string]any{"type": "custom:x"}, "", "from"},
			{"GET", conv + "/events/" + eid, nil, 200, nil, "", ""},
			{"DELETE", conv + "/events/" + eid, nil, map[string]int{"v0.3": 200, "v1": 204}[v], nil, "", ""},
			{"GET", "/" + v + "/users/" + uid + "/conversations", nil, 200, nil, "?cursor=%%%", "query"},
			{"GET", "/" + v + "/users/me", nil, 200, nil, "", ""},
			{"GET", "/" + v + "/users/" + uid + "/sessions", nil, 200, nil, "?page_size=1000", "page_size"},
			{"DELETE", conv, nil, 204, nil, "", ""},
		}
		e.createUser("other-user")
		for _, c := range cases {
			if c.field != "" {
				var r response
				if c.bad != nil {
					r = e.do(c.method, c.path, tok, c.bad)
				} else {
					r = e.do(c.method, c.path+c.badQuery, tok, nil)
				}
				r.wantProblem(t, 400, "http:error:validation-fail")
				if !slices.Contains(r.invalidParams(), c.field) {
					t.Errorf("%s %s (bad): invalid_parameters = %v, want %q", c.method, c.path, r.invalidParams(), c.field)
				}
			}
			if r := e.do(c.method, c.path, tok, c.good); r.status != c.status {
				t.Errorf("%s %s: %d, want %d: %s", c.method, strings.TrimPrefix(c.path, "/"+v), r.status, c.status, r.raw)
			}
		}
	})
}
