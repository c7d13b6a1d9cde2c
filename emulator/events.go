package emulator

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// eventTypePattern is the shape of an event type: lower-case words joined by
// colons, such as "message", "message:delivered" or "custom:my-type".
var eventTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*(:[a-z0-9_.-]+)*$`)

// isChatEvent reports whether filter_group_type=ChatEvents keeps an event, as
// the Client SDK asks for a conversation's history: messages, member changes,
// custom events and deletions, but not receipts (message:delivered, …), whose
// presence makes the SDK fail to read the whole page.
func isChatEvent(typ string) bool {
	switch typ {
	case "message", "text", "image", "member:invited", "member:joined", "member:left", "event:delete":
		return true
	}
	return strings.HasPrefix(typ, "custom:")
}

// eventInput is a validated event create body.
type eventInput struct {
	typ, from, to, clientRef string
	body                     map[string]any
}

// readEventInput validates an event body: type (required; system types such as
// member:joined are the platform's own), from (required, a member id), to,
// body (an object; text needs body.text, message needs body.message_type and,
// for message_type text, body.text) and client_ref.
func readEventInput(r *http.Request) (eventInput, *apiError) {
	obj, bad := readObject(r)
	if bad != nil {
		return eventInput{}, errValidation(*bad)
	}
	var v validator
	var in eventInput
	var present bool
	in.typ, present, _ = v.str(obj, "type", "type")
	switch {
	case !present && v.ok():
		v.fail("type", `"type" is required`)
	case present && (!eventTypePattern.MatchString(in.typ) || len(in.typ) > maxEventTypeLen):
		v.fail("type", `"type" must be an event type such as message, text or custom:<name>`)
	case strings.HasPrefix(in.typ, "member:"):
		v.fail("type", `"type" `+in.typ+` is recorded by the platform itself; change members through the members endpoints`)
	}
	in.from, present, _ = v.str(obj, "from", "from")
	if (!present || in.from == "") && !slices.ContainsFunc(v.params, func(p invalidParameter) bool { return p.Name == "from" }) {
		v.fail("from", `"from" is required: the id of a joined member`)
	}
	in.to, _, _ = v.str(obj, "to", "to")
	in.clientRef, _, _ = v.str(obj, "client_ref", "client_ref")
	in.body, _, _ = v.object(obj, "body", "body")
	if in.body == nil {
		in.body = map[string]any{}
	}
	switch in.typ {
	case "text":
		if s, ok := in.body["text"].(string); !ok || s == "" {
			v.fail("body.text", `"body.text" is required for a text event: a non-empty string`)
		}
	case "message":
		mt, ok := in.body["message_type"].(string)
		switch {
		case !ok || mt == "":
			v.fail("body.message_type", `"body.message_type" is required for a message event (text, image, custom, …)`)
		case mt == "text":
			if s, ok := in.body["text"].(string); !ok || s == "" {
				v.fail("body.text", `"body.text" is required for a text message: a non-empty string`)
			}
		}
	}
	if !v.ok() {
		return eventInput{}, errValidation(v.params...)
	}
	return in, nil
}

// createEvent handles POST /{v}/conversations/{cid}/events (201): from must be
// a joined member, and a user token may send only as its own member.
func (e *Emulator) createEvent(w http.ResponseWriter, r *http.Request, c caller) {
	in, aerr := readEventInput(r)
	if aerr != nil {
		aerr.write(w)
		return
	}
	e.answer(w, c, http.StatusCreated, func(app *application) (any, *apiError) {
		cv, ev, aerr := e.addEvent(app, r.PathValue("cid"), c, in)
		if aerr != nil {
			return nil, aerr
		}
		return createdEventView(r, app, cv, ev), nil
	})
}

// addEvent applies a validated create; the caller holds e.mu.
func (e *Emulator) addEvent(app *application, cid string, c caller, in eventInput) (*conversation, *event, *apiError) {
	cv, aerr := app.conversation(cid)
	if aerr != nil {
		return nil, nil, aerr
	}
	from, aerr := cv.member(in.from)
	if aerr != nil {
		aerr.params = []invalidParameter{{Name: "from", Reason: aerr.detail}}
		return nil, nil, aerr
	}
	me, aerr := app.callerUser(c)
	if aerr != nil {
		return nil, nil, aerr
	}
	if me != nil && from.userID != me.id {
		return nil, nil, errPermission("A user token may send events only as its own member; %s belongs to another user.", from.id)
	}
	if from.state != stateJoined {
		return nil, nil, errBadRequest(codeMemberInvalidState, "Member %s is %s: only a joined member can send events.", from.id, strings.ToLower(from.state))
	}
	if in.to != "" {
		if _, aerr := cv.member(in.to); aerr != nil {
			aerr.params = []invalidParameter{{Name: "to", Reason: aerr.detail}}
			return nil, nil, aerr
		}
	}
	ev := &event{typ: in.typ, from: from.id, to: in.to, body: cloneJSON(in.body), clientRef: in.clientRef}
	if ev.typ == "ephemeral" {
		// Ephemeral events (typing indicators) reach the members' sessions
		// but are neither numbered nor kept.
		ev.createdAt = e.now()
		e.publish(app, cv, ev)
		return cv, ev, nil
	}
	return cv, e.appendEvent(app, cv, ev), nil
}

// pathEvent resolves a conversation and an event id from the path; the caller
// holds e.mu.
func (a *application) pathEvent(cid, eid string) (*conversation, *event, *apiError) {
	cv, aerr := a.conversation(cid)
	if aerr != nil {
		return nil, nil, aerr
	}
	id, err := strconv.ParseUint(eid, 10, 64)
	if err != nil || id == 0 || id > uint64(len(cv.events)) {
		return nil, nil, errNotFound(codeEventNotFound, "Event %s does not exist in conversation %s.", eid, cv.id)
	}
	return cv, cv.events[id-1], nil
}

// getEvent handles GET /{v}/conversations/{cid}/events/{eid}.
func (e *Emulator) getEvent(w http.ResponseWriter, r *http.Request, c caller) {
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		cv, ev, aerr := app.pathEvent(r.PathValue("cid"), r.PathValue("eid"))
		if aerr != nil {
			return nil, aerr
		}
		return eventView(r, app, cv, ev), nil
	})
}

// deleteEvent handles DELETE /{v}/conversations/{cid}/events/{eid}: the event
// keeps its id with an empty body. A user token may delete only what its own
// member sent; system events cannot be deleted.
func (e *Emulator) deleteEvent(w http.ResponseWriter, r *http.Request, c caller) {
	// v0.3 answers an empty object, as the reference shows; v1 No Content.
	status, view := http.StatusNoContent, any(nil)
	if apiVersion(r) == "v0.3" {
		status, view = http.StatusOK, map[string]any{}
	}
	e.answer(w, c, status, func(app *application) (any, *apiError) {
		return view, e.removeEvent(app, r.PathValue("cid"), r.PathValue("eid"), c)
	})
}

// removeEvent marks an event deleted; the caller holds e.mu.
func (e *Emulator) removeEvent(app *application, cid, eid string, c caller) *apiError {
	cv, ev, aerr := app.pathEvent(cid, eid)
	if aerr != nil {
		return aerr
	}
	if !ev.deletedAt.IsZero() {
		return errNotFound(codeEventNotFound, "Event %s of conversation %s is already deleted.", eid, cv.id)
	}
	if strings.HasPrefix(ev.typ, "member:") {
		return errPermission("Event %s is a %s event the platform recorded; it cannot be deleted.", eid, ev.typ)
	}
	me, aerr := app.callerUser(c)
	if aerr != nil {
		return aerr
	}
	if me != nil {
		if from, _ := cv.member(ev.from); from == nil || from.userID != me.id {
			return errPermission("A user token may delete only events its own member sent.")
		}
	}
	ev.deletedAt = e.now()
	ev.body = map[string]any{}
	del := &event{typ: "event:delete", body: map[string]any{"event_id": ev.id}}
	if me != nil {
		if m := cv.activeMember(me.id); m != nil {
			del.from = m.id
		}
	}
	e.appendEvent(app, cv, del)
	return nil
}

// listEvents handles GET /{v}/conversations/{cid}/events, paged by event id,
// with the filters start_id, end_id, event_type, exclude_deleted_events and
// filter_group_type=ChatEvents.
func (e *Emulator) listEvents(w http.ResponseWriter, r *http.Request, c caller) {
	var v validator
	params := v.query(r)
	q := readPageQuery(&v, params, r.URL.Path, "start_id", "end_id", "event_type", "exclude_deleted_events", "filter_group_type")
	startID := v.intParam(params, "start_id", 1, 1, 1<<31)
	endID := v.intParam(params, "end_id", 1<<31, 1, 1<<31)
	eventType := params.Get("event_type")
	excludeDeleted := false
	switch params.Get("exclude_deleted_events") {
	case "", "false":
	case "true":
		excludeDeleted = true
	default:
		v.fail("exclude_deleted_events", `"exclude_deleted_events" must be true or false`)
	}
	group := params.Get("filter_group_type")
	if group != "" && group != "ChatEvents" {
		v.fail("filter_group_type", `"filter_group_type" must be ChatEvents`)
	}
	if !v.ok() {
		writeValidation(w, v.params...)
		return
	}
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		cv, aerr := app.conversation(r.PathValue("cid"))
		if aerr != nil {
			return nil, aerr
		}
		var all []*event
		for _, ev := range cv.events {
			switch {
			case ev.id < uint64(startID) || ev.id > uint64(endID):
			case eventType != "" && !matchEventType(eventType, ev.typ):
			case excludeDeleted && !ev.deletedAt.IsZero():
			case group != "" && !isChatEvent(ev.typ):
			default:
				all = append(all, ev)
			}
		}
		page, links := paginate(all, func(ev *event) uint64 { return ev.id }, q, baseURL(r))
		items := make([]any, 0, len(page))
		for _, ev := range page {
			items = append(items, eventView(r, app, cv, ev))
		}
		return eventPageView(r, q, items, links), nil
	})
}

// matchEventType matches an event_type filter: an exact type, or a prefix
// ending in ":*" ("member:*").
func matchEventType(filter, typ string) bool {
	if prefix, ok := strings.CutSuffix(filter, "*"); ok {
		return strings.HasPrefix(typ, prefix)
	}
	return filter == typ
}
