package emulator

import (
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// channelTypes are the membership channels the platform knows.
var channelTypes = map[string]bool{"app": true, "phone": true, "sip": true, "websocket": true, "vbc": true}

// memberInput is a validated member create or update body.
type memberInput struct {
	state              string // stateInvited, stateJoined or stateLeft; "" when absent
	userID, userName   string
	channel, media     map[string]any
	knockingID, invite string
}

// readMemberInput validates a member body. On create, state must be invited or
// joined and user must name a user by id or name; on update, state must be
// joined or left and user is not read. channel.type, when given, is one of the
// platform's channel types.
func readMemberInput(r *http.Request, create bool) (memberInput, *apiError) {
	obj, bad := readObject(r)
	if bad != nil {
		return memberInput{}, errValidation(*bad)
	}
	var v validator
	var in memberInput
	state, present, _ := v.str(obj, "state", "state")
	allowed := map[bool]string{true: "invited, joined", false: "joined, left"}[create]
	switch s := strings.ToLower(state); {
	case !present && v.ok():
		v.fail("state", `"state" is required: one of [`+allowed+`]`)
	case create && (s == "invited" || s == "joined"), !create && (s == "joined" || s == "left"):
		in.state = strings.ToUpper(s)
	case v.ok():
		v.fail("state", `"state" must be one of [`+allowed+`]`)
	}
	if create {
		userObj, present, _ := v.object(obj, "user", "user")
		id, _ := userObj["id"].(string)
		name, _ := userObj["name"].(string)
		switch {
		case !present && v.ok() && obj["user"] == nil:
			v.fail("user", `"user" is required: an object with the user's id or name`)
		case present && id == "" && name == "":
			v.fail("user", `"user" must have a non-empty "id" or "name"`)
		}
		in.userID, in.userName = id, name
	}
	in.channel, _, _ = v.object(obj, "channel", "channel")
	if in.channel != nil {
		if t, _ := in.channel["type"].(string); !channelTypes[t] {
			v.fail("channel.type", `"channel.type" must be one of [app, phone, sip, websocket, vbc]`)
		}
	}
	in.media, _, _ = v.object(obj, "media", "media")
	in.knockingID, _, _ = v.str(obj, "knocking_id", "knocking_id")
	in.invite, _, _ = v.str(obj, "member_id_inviting", "member_id_inviting")
	if !v.ok() {
		return memberInput{}, errValidation(v.params...)
	}
	return in, nil
}

// initiatorOf records who moved a member into a state: a user (through its
// member of the conversation, when it has one), or the platform for an admin
// token.
func initiatorOf(me *user, by *member) map[string]any {
	switch {
	case me == nil:
		return map[string]any{"isSystem": true}
	case by == nil:
		return map[string]any{"isSystem": false, "user_id": me.id}
	default:
		return map[string]any{"isSystem": false, "user_id": me.id, "member_id": by.id}
	}
}

// createMember handles POST /{v}/conversations/{cid}/members (201). A user token
// may invite anyone but join only as itself; joining a user who has an invited
// member moves that member to joined. Joining twice is 400
// conversation:error:member-already-joined.
func (e *Emulator) createMember(w http.ResponseWriter, r *http.Request, c caller) {
	in, aerr := readMemberInput(r, true)
	if aerr != nil {
		aerr.write(w)
		return
	}
	e.answer(w, c, http.StatusCreated, func(app *application) (any, *apiError) {
		m, aerr := e.addMember(app, r.PathValue("cid"), c, in)
		if aerr != nil {
			return nil, aerr
		}
		return memberView(r, app, m), nil
	})
}

// addMember applies a validated create; the caller holds e.mu.
func (e *Emulator) addMember(app *application, cid string, c caller, in memberInput) (*member, *apiError) {
	cv, aerr := app.conversation(cid)
	if aerr != nil {
		return nil, aerr
	}
	target := app.users[in.userID]
	if in.userID == "" {
		target = app.byName[in.userName]
	}
	if target == nil || (in.userID != "" && in.userName != "" && target.name != in.userName) {
		return nil, errUserNotFound
	}
	me, aerr := app.callerUser(c)
	if aerr != nil {
		return nil, aerr
	}
	var by *member
	if me != nil {
		if in.state == stateJoined && me.id != target.id {
			return nil, errPermission("A user token may join a conversation only as its own user; invite other users with state invited.")
		}
		by = cv.activeMember(me.id)
	}
	now := e.now()
	if m := cv.activeMember(target.id); m != nil {
		switch {
		case m.state == stateJoined:
			return nil, errBadRequest(codeMemberAlreadyJoined, "User %s is already a joined member (%s) of conversation %s.", target.name, m.id, cv.id)
		case in.state == stateInvited:
			return nil, errBadRequest(codeMemberAlreadyInvited, "User %s is already invited (%s) to conversation %s.", target.name, m.id, cv.id)
		}
		// An invited member accepts: it becomes joined, with no second member.
		m.state, m.joinedAt = stateJoined, now
		if in.channel != nil {
			m.channel = in.channel
		}
		m.initiator["joined"] = initiatorOf(me, by)
		e.memberEvent(app, cv, m, by)
		return m, nil
	}
	cv.memberSeq++
	m := &member{
		seq: cv.memberSeq, id: "MEM-" + uuid.NewString(), convID: cv.id,
		userID: target.id, userName: target.name, state: in.state,
		channel: in.channel, media: in.media, initiator: map[string]any{},
	}
	if m.channel == nil {
		m.channel = map[string]any{"type": "app"}
	}
	if in.state == stateInvited {
		m.invitedAt = now
	} else {
		m.joinedAt = now
		if me != nil {
			by = m // a user joining as itself
		}
	}
	m.initiator[strings.ToLower(in.state)] = initiatorOf(me, by)
	cv.members = append(cv.members, m)
	e.memberEvent(app, cv, m, by)
	return m, nil
}

// getMember handles GET /{v}/conversations/{cid}/members/{mid}, where "me" is
// the token's own member.
func (e *Emulator) getMember(w http.ResponseWriter, r *http.Request, c caller) {
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		m, aerr := app.pathMember(r.PathValue("cid"), r.PathValue("mid"), c)
		if aerr != nil {
			return nil, aerr
		}
		return memberView(r, app, m), nil
	})
}

// pathMember resolves a conversation and a member id from the path ("me" is
// the token's own member); the caller holds e.mu.
func (a *application) pathMember(cid, mid string, c caller) (*member, *apiError) {
	cv, aerr := a.conversation(cid)
	if aerr != nil {
		return nil, aerr
	}
	if mid == "me" {
		return a.meMember(cv, c)
	}
	return cv.member(mid)
}

// updateMember handles PATCH /{v}/conversations/{cid}/members/{mid}: invited →
// joined, invited → left, joined → left. A user token may change only its own
// member.
func (e *Emulator) updateMember(w http.ResponseWriter, r *http.Request, c caller) {
	in, aerr := readMemberInput(r, false)
	if aerr != nil {
		aerr.write(w)
		return
	}
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		m, aerr := e.moveMember(app, r.PathValue("cid"), r.PathValue("mid"), c, in)
		if aerr != nil {
			return nil, aerr
		}
		return memberView(r, app, m), nil
	})
}

// moveMember applies a validated state change; the caller holds e.mu.
func (e *Emulator) moveMember(app *application, cid, mid string, c caller, in memberInput) (*member, *apiError) {
	m, aerr := app.pathMember(cid, mid, c)
	if aerr != nil {
		return nil, aerr
	}
	cv := app.convs[cid]
	me, aerr := app.callerUser(c)
	if aerr != nil {
		return nil, aerr
	}
	var by *member
	if me != nil {
		if me.id != m.userID {
			return nil, errPermission("A user token may change only its own member; %s belongs to another user.", m.id)
		}
		by = m
	}
	switch {
	case m.state == stateLeft:
		return nil, errBadRequest(codeMemberInvalidState, "Member %s has left conversation %s; join again with a new member.", m.id, cv.id)
	case m.state == stateJoined && in.state == stateJoined:
		return nil, errBadRequest(codeMemberAlreadyJoined, "Member %s has already joined conversation %s.", m.id, cv.id)
	}
	now := e.now()
	m.state = in.state
	if in.state == stateJoined {
		m.joinedAt = now
	} else {
		m.leftAt = now
	}
	if in.channel != nil {
		m.channel = in.channel
	}
	m.initiator[strings.ToLower(in.state)] = initiatorOf(me, by)
	e.memberEvent(app, cv, m, by)
	return m, nil
}

// leaveMember handles DELETE /v0.2/conversations/{cid}/members/{mid}, the
// Client SDK's leaveConversation: the member leaves (204, no body).
func (e *Emulator) leaveMember(w http.ResponseWriter, r *http.Request, c caller) {
	e.answer(w, c, http.StatusNoContent, func(app *application) (any, *apiError) {
		_, aerr := e.moveMember(app, r.PathValue("cid"), r.PathValue("mid"), c, memberInput{state: stateLeft})
		return nil, aerr
	})
}

// listMembers handles GET /{v}/conversations/{cid}/members, paged in creation
// order.
func (e *Emulator) listMembers(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := pageParams(w, r)
	if !ok {
		return
	}
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		cv, aerr := app.conversation(r.PathValue("cid"))
		if aerr != nil {
			return nil, aerr
		}
		page, links := paginate(cv.members, func(m *member) uint64 { return m.seq }, q, baseURL(r))
		items := make([]any, 0, len(page))
		for _, m := range page {
			items = append(items, memberSummary(r, app, m))
		}
		return pageView(q, "members", items, links), nil
	})
}
