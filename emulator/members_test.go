package emulator_test

import (
	"slices"
	"testing"
)

func TestMemberStatesFollowThePlatformRules(t *testing.T) {
	t.Parallel()
	versions(t, func(t *testing.T, e *env, v string) {
		uid := e.createUser("new-user")
		e.createUser("other-user")
		cid := e.createConv(v, "c")
		members := "/" + v + "/conversations/" + cid + "/members"
		tok := e.userToken("new-user", clientSDKACL())
		otherTok := e.userToken("other-user", clientSDKACL())

		// A user token may invite anyone but join only as itself.
		e.do("POST", members, tok, map[string]any{"state": "joined", "user": map[string]any{"name": "other-user"}}).
			wantProblem(t, 403, "system:error:permission")
		inv := e.do("POST", members, otherTok, map[string]any{"state": "invited", "user": map[string]any{"id": uid}}).want(t, 201)
		mid := inv.str("id")
		ts := inv.body["timestamp"].(map[string]any)
		if inv.str("state") != "INVITED" || ts["invited"] == nil || ts["joined"] != nil || ts["left"] != nil {
			t.Fatalf("invited member = %s", inv.raw)
		}
		e.do("POST", members, otherTok, map[string]any{"state": "invited", "user": map[string]any{"id": uid}}).
			wantProblem(t, 400, "conversation:error:member-already-invited")

		// Joining with an invited member moves that member to joined: no second member.
		joined := e.do("POST", members, tok, map[string]any{"state": "joined", "user": map[string]any{"name": "new-user"}}).want(t, 201)
		if joined.str("id") != mid || joined.str("state") != "JOINED" {
			t.Fatalf("join after invite = %s", joined.raw)
		}
		e.do("POST", members, tok, map[string]any{"state": "joined", "user": map[string]any{"name": "new-user"}}).
			wantProblem(t, 400, "conversation:error:member-already-joined")
		e.do("PATCH", members+"/"+mid, tok, map[string]any{"state": "joined"}).
			wantProblem(t, 400, "conversation:error:member-already-joined")

		me := e.do("GET", members+"/me", tok, nil).want(t, 200)
		user := me.body["_embedded"].(map[string]any)["user"].(map[string]any)
		if me.str("id") != mid || user["name"] != "new-user" || me.str("conversation_id") != cid {
			t.Errorf("members/me = %s", me.raw)
		}
		e.do("GET", members+"/me", e.admin(), nil).wantProblem(t, 404, "conversation:error:member-not-found")
		e.do("GET", members+"/me", otherTok, nil).wantProblem(t, 404, "conversation:error:member-not-found")
		e.do("GET", members+"/MEM-nope", tok, nil).wantProblem(t, 404, "conversation:error:member-not-found")

		// Only the member's own user (or an admin) changes it.
		e.do("PATCH", members+"/"+mid, otherTok, map[string]any{"state": "left"}).wantProblem(t, 403, "system:error:permission")
		left := e.do("PATCH", members+"/"+mid, tok, map[string]any{"state": "left"}).want(t, 200)
		ts = left.body["timestamp"].(map[string]any)
		if left.str("state") != "LEFT" || ts["invited"] == nil || ts["joined"] == nil || ts["left"] == nil {
			t.Errorf("left member = %s", left.raw)
		}
		e.do("PATCH", members+"/"+mid, e.admin(), map[string]any{"state": "joined"}).wantProblem(t, 400, "conversation:error:invalid-member-state")

		// After leaving, joining again makes a new member.
		again := e.join(v, cid, tok, "new-user")
		if again == mid {
			t.Error("rejoining reused the member that left")
		}
		list := e.do("GET", members+"?page_size=1", e.admin(), nil).want(t, 200)
		var ids []string
		for next := members + "?page_size=1"; next != ""; {
			r := e.do("GET", next, e.admin(), nil).want(t, 200)
			for _, m := range r.embedded("members") {
				ids = append(ids, m["id"].(string))
			}
			next = r.href("next")
		}
		if !slices.Equal(ids, []string{mid, again}) || list.href("next") == "" {
			t.Errorf("members listed %v, want [%s %s]", ids, mid, again)
		}

		// Admin tokens may invite and join anyone.
		e.do("POST", members, e.admin(), map[string]any{"state": "joined", "user": map[string]any{"name": "other-user"}}).want(t, 201)
	})
}

func TestMemberInputIsValidatedByName(t *testing.T) {
	t.Parallel()
	versions(t, func(t *testing.T, e *env, v string) {
		e.createUser("new-user")
		cid := e.createConv(v, "c")
		members := "/" + v + "/conversations/" + cid + "/members"
		cases := []struct {
			body any
			name string
		}{
			{map[string]any{"user": map[string]any{"name": "new-user"}}, "state"},
			{map[string]any{"state": "left", "user": map[string]any{"name": "new-user"}}, "state"},
			{map[string]any{"state": 1, "user": map[string]any{"name": "new-user"}}, "state"},
			{map[string]any{"state": "joined"}, "user"},
			{map[string]any{"state": "joined", "user": "new-user"}, "user"},
			{map[string]any{"state": "joined", "user": map[string]any{}}, "user"},
			{map[string]any{"state": "joined", "user": map[string]any{"name": "new-user"}, "channel": map[string]any{"type": "pigeon"}}, "channel.type"},
			{"x", "body"},
		}
		for _, c := range cases {
			r := e.do("POST", members, e.admin(), c.body).wantProblem(t, 400, "http:error:validation-fail")
			if !slices.Contains(r.invalidParams(), c.name) {
				t.Errorf("%v: invalid_parameters = %v, want %q", c.body, r.invalidParams(), c.name)
			}
		}
		e.do("POST", members, e.admin(), map[string]any{"state": "joined", "user": map[string]any{"name": "nobody"}}).
			wantProblem(t, 404, "user:error:not-found")
		e.do("POST", "/"+v+"/conversations/CON-nope/members", e.admin(), map[string]any{"state": "joined", "user": map[string]any{"name": "new-user"}}).
			wantProblem(t, 404, "conversation:error:not-found")
		mid := e.join(v, cid, e.admin(), "new-user")
		r := e.do("PATCH", members+"/"+mid, e.admin(), map[string]any{"state": "invited"}).wantProblem(t, 400, "http:error:validation-fail")
		if !slices.Contains(r.invalidParams(), "state") {
			t.Errorf("PATCH invalid_parameters = %v", r.invalidParams())
		}
	})
}
