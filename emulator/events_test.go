package emulator_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// textEvent is a text event body in the version's form: v0.3 "text" as the
// Client SDK sends it, v1 "message" with message_type text.
func textEvent(v, from, text string) map[string]any {
	if v == "v1" {
		return map[string]any{"type": "message", "from": from, "body": map[string]any{"message_type": "text", "text": text}}
	}
	return map[string]any{"type": "text", "from": from, "body": map[string]any{"text": text}}
}

// eventID reads an event id, which is a number.
func eventID(t *testing.T, m map[string]any) int {
	t.Helper()
	f, ok := m["id"].(float64)
	if !ok {
		t.Fatalf("event id %v is not a number", m["id"])
	}
	return int(f)
}

func TestEventsAreNumberedWithTheMemberEvents(t *testing.T) {
	t.Parallel()
	versions(t, func(t *testing.T, e *env, v string) {
		uid := e.createUser("new-user")
		e.createUser("other-user")
		cid := e.createConv(v, "c")
		events := "/" + v + "/conversations/" + cid + "/events"
		tok := e.userToken("new-user", clientSDKACL())
		mid := e.join(v, cid, tok, "new-user") // event 1: member:joined
		e.do("POST", "/"+v+"/conversations/"+cid+"/members", tok,
			map[string]any{"state": "invited", "user": map[string]any{"name": "other-user"}}).want(t, 201) // event 2

		created := e.do("POST", events, tok, textEvent(v, mid, "hello")).want(t, 201)
		if eventID(t, created.body) != 3 || created.str("timestamp") == "" {
			t.Fatalf("created event = %s", created.raw)
		}
		if v == "v1" {
			emb := created.body["_embedded"].(map[string]any)
			if created.str("type") != "message" || emb["from_member"].(map[string]any)["id"] != mid ||
				emb["from_user"].(map[string]any)["id"] != uid {
				t.Errorf("v1 create answer = %s", created.raw)
			}
		} else if created.str("href") != e.srv.URL+events+"/3" {
			t.Errorf("v0.3 create answer = %s", created.raw)
		}
		if seq := e.do("GET", "/"+v+"/conversations/"+cid, tok, nil).body["sequence_number"]; seq != float64(3) {
			t.Errorf("sequence_number = %v, want 3", seq)
		}

		all := e.do("GET", events, tok, nil).want(t, 200).embedded("events")
		var types []string
		for i, ev := range all {
			if eventID(t, ev) != i+1 {
				t.Errorf("event %d has id %v", i, ev["id"])
			}
			types = append(types, ev["type"].(string))
		}
		if want := []string{"member:joined", "member:invited", textEvent(v, "", "")["type"].(string)}; !slices.Equal(types, want) {
			t.Fatalf("types = %v, want %v", types, want)
		}
		if ch := all[0]["body"].(map[string]any)["channel"]; ch == nil {
			t.Error("member event has no body.channel")
		}
		got := e.do("GET", events+"/3", tok, nil).want(t, 200)
		if got.body["body"].(map[string]any)["text"] != "hello" || got.str("from") != mid {
			t.Errorf("get event = %s", got.raw)
		}
		e.do("GET", events+"/4", tok, nil).wantProblem(t, 404, "event:error:not-found")
		e.do("GET", events+"/x", tok, nil).wantProblem(t, 404, "event:error:not-found")

		// Filters and paging by id.
		for i := range 5 {
			e.do("POST", events, tok, textEvent(v, mid, fmt.Sprint("m", i))).want(t, 201)
		}
		members := e.do("GET", events+"?event_type=member:*", tok, nil).want(t, 200).embedded("events")
		if len(members) != 2 {
			t.Errorf("event_type=member:* listed %d", len(members))
		}
		window := e.do("GET", events+"?start_id=4&end_id=6&order=desc", tok, nil).want(t, 200).embedded("events")
		if len(window) != 3 || eventID(t, window[0]) != 6 || eventID(t, window[2]) != 4 {
			t.Errorf("start_id/end_id window = %v", window)
		}
		var ids []int
		for next := events + "?page_size=3"; next != ""; {
			r := e.do("GET", next, tok, nil).want(t, 200)
			for _, ev := range r.embedded("events") {
				ids = append(ids, eventID(t, ev))
			}
			next = r.href("next")
		}
		if len(ids) != 8 || ids[7] != 8 {
			t.Errorf("paged ids = %v", ids)
		}

		// Delete: only the sender (or an admin); the id stays, the body goes.
		otherTok := e.userToken("other-user", clientSDKACL())
		e.do("DELETE", events+"/3", otherTok, nil).wantProblem(t, 403, "system:error:permission")
		e.do("DELETE", events+"/1", e.admin(), nil).wantProblem(t, 403, "system:error:permission")
		del := e.do("DELETE", events+"/3", tok, nil)
		if (v == "v1" && del.status != 204) || (v == "v0.3" && del.status != 200) {
			t.Errorf("delete status = %d", del.status)
		}
		e.do("DELETE", events+"/3", tok, nil).wantProblem(t, 404, "event:error:not-found")
		kept := e.do("GET", events+"?exclude_deleted_events=true&filter_group_type=ChatEvents", tok, nil).want(t, 200).embedded("events")
		for _, ev := range kept {
			if eventID(t, ev) == 3 {
				t.Error("exclude_deleted_events listed the deleted event")
			}
		}
		// The deletion is itself an event (event:delete naming the id), and
		// receipts are not chat events.
		e.do("POST", events, tok, map[string]any{"type": "message:delivered", "from": mid, "body": map[string]any{"event_id": 4}}).want(t, 201)
		if len(kept) != 8 || kept[7]["type"] != "event:delete" || kept[7]["body"].(map[string]any)["event_id"] != float64(3) {
			t.Errorf("listed %d after delete (want 8, the last an event:delete of 3): %v", len(kept), kept)
		}
		chat := e.do("GET", events+"?filter_group_type=ChatEvents", tok, nil).want(t, 200).embedded("events")
		all = e.do("GET", events+"?page_size=100", tok, nil).want(t, 200).embedded("events")
		if len(chat) != 9 || len(all) != 10 || all[9]["type"] != "message:delivered" {
			t.Errorf("ChatEvents listed %d of %d events; want 9 of 10 (no receipt)", len(chat), len(all))
		}
	})
}

func TestEventSendersMustBeJoinedAndTheirOwn(t *testing.T) {
	t.Parallel()
	versions(t, func(t *testing.T, e *env, v string) {
		e.createUser("new-user")
		e.createUser("other-user")
		cid := e.createConv(v, "c")
		events := "/" + v + "/conversations/" + cid + "/events"
		tok := e.userToken("new-user", clientSDKACL())
		otherTok := e.userToken("other-user", clientSDKACL())
		mid := e.join(v, cid, tok, "new-user")
		invited := e.do("POST", "/"+v+"/conversations/"+cid+"/members", tok,
			map[string]any{"state": "invited", "user": map[string]any{"name": "other-user"}}).want(t, 201).str("id")

		e.do("POST", events, otherTok, textEvent(v, mid, "as someone else")).wantProblem(t, 403, "system:error:permission")
		e.do("POST", events, otherTok, textEvent(v, invited, "not joined yet")).wantProblem(t, 400, "conversation:error:invalid-member-state")
		r := e.do("POST", events, tok, textEvent(v, "MEM-nope", "x")).wantProblem(t, 404, "conversation:error:member-not-found")
		if !slices.Contains(r.invalidParams(), "from") {
			t.Errorf("unknown from: invalid_parameters = %v", r.invalidParams())
		}
		e.do("POST", events, e.admin(), textEvent(v, mid, "an admin may send as any joined member")).want(t, 201)

		cases := []struct {
			body map[string]any
			name string
		}{
			{map[string]any{"from": mid}, "type"},
			{map[string]any{"type": "Not A Type", "from": mid}, "type"},
			{map[string]any{"type": "member:joined", "from": mid}, "type"},
			{map[string]any{"type": "text"}, "from"},
			{map[string]any{"type": "text", "from": mid}, "body.text"},
			{map[string]any{"type": "text", "from": mid, "body": "hi"}, "body"},
			{map[string]any{"type": "message", "from": mid, "body": map[string]any{"text": "hi"}}, "body.message_type"},
			{map[string]any{"type": "message", "from": mid, "body": map[string]any{"message_type": "text"}}, "body.text"},
		}
		for _, c := range cases {
			r := e.do("POST", events, tok, c.body).wantProblem(t, 400, "http:error:validation-fail")
			if !slices.Contains(r.invalidParams(), c.name) {
				t.Errorf("%v: invalid_parameters = %v, want %q", c.body, r.invalidParams(), c.name)
			}
		}
		e.do("POST", events, tok, map[string]any{"type": "custom:ping", "from": mid, "body": map[string]any{"n": 1}}).want(t, 201)
		for _, q := range []string{"start_id=0", "end_id=x", "page_size=101", "order=sideways", "exclude_deleted_events=maybe", "filter_group_type=Other"} {
			name, _, _ := strings.Cut(q, "=")
			r := e.do("GET", events+"?"+q, tok, nil).wantProblem(t, 400, "http:error:validation-fail")
			if !slices.Contains(r.invalidParams(), name) {
				t.Errorf("%s: invalid_parameters = %v", q, r.invalidParams())
			}
		}
	})
}
