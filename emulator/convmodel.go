package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The Conversation API model: one store, rendered as v0.3 (what the Client SDK
// calls) and v1 (what the server SDKs call) by convviews.go. Everything here is
// guarded by Emulator.mu.

// Member states, as the platform spells them in responses.
const (
	stateInvited = "INVITED"
	stateJoined  = "JOINED"
	stateLeft    = "LEFT"
)

// Conversation API error codes.
const (
	codeConversationNotFound  = "conversation:error:not-found"
	codeConversationDuplicate = "conversation:error:duplicate-name"
	codeMemberNotFound        = "conversation:error:member-not-found"
	codeMemberAlreadyJoined   = "conversation:error:member-already-joined"
	codeMemberAlreadyInvited  = "conversation:error:member-already-invited"
	codeMemberInvalidState    = "conversation:error:invalid-member-state"
	codeEventNotFound         = "event:error:not-found"
	codeExpiredToken          = "system:error:expired-token"
)

// conversation is a stored conversation with its members and events.
type conversation struct {
	seq                             uint64
	id, name, displayName, imageURL string
	properties                      map[string]any
	numbers                         any
	createdAt, updatedAt            time.Time

	members   []*member // in creation order; never removed
	memberSeq uint64
	events    []*event // events[i].id == i+1
}

// member is a user's membership of a conversation. A user has at most one
// member that has not left; after leaving, joining again makes a new member.
type member struct {
	seq                         uint64
	id, convID                  string
	userID, userName            string
	state                       string
	invitedAt, joinedAt, leftAt time.Time
	channel                     map[string]any
	media                       map[string]any
	// initiator records, per state reached, who brought the member there.
	initiator map[string]any
}

// event is one numbered event of a conversation; system events (member:*) have
// no sender unless a member caused them.
type event struct {
	id        uint64
	typ       string
	from      string // sender's member id, "" for the platform itself
	to        string
	body      map[string]any
	clientRef string
	createdAt time.Time
	deletedAt time.Time
}

// apiError is a refused Conversation API request in Vonage's problem shape.
type apiError struct {
	status              int
	code, title, detail string
	params              []invalidParameter
}

// write answers the request with the problem.
func (e *apiError) write(w http.ResponseWriter) {
	writeProblem(w, e.status, e.code, e.title, e.detail, e.params...)
}

// Error makes apiError an error for logs.
func (e *apiError) Error() string { return e.code + ": " + e.detail }

func errNotFound(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, code: code, title: "Not found.", detail: fmt.Sprintf(format, args...)}
}

func errBadRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, title: "Bad request.", detail: fmt.Sprintf(format, args...)}
}

func errPermission(format string, args ...any) *apiError {
	return &apiError{status: http.StatusForbidden, code: codePermission, title: "Forbidden.", detail: fmt.Sprintf(format, args...)}
}

func errValidation(params ...invalidParameter) *apiError {
	return &apiError{status: http.StatusBadRequest, code: codeValidation, title: "Bad request.", detail: "Input validation failure.", params: params}
}

var errAppGone = &apiError{status: http.StatusUnauthorized, code: codeInvalidToken, title: "Unauthorized.", detail: "The token's application no longer exists."}

// lockedApp takes e.mu and returns the caller's application; the caller must
// call e.mu.Unlock when err is nil.
func (e *Emulator) lockedApp(appID string) (*application, *apiError) {
	e.mu.Lock()
	app := e.apps[appID]
	if app == nil {
		e.mu.Unlock()
		return nil, errAppGone
	}
	return app, nil
}

// answer runs op on the caller's application under the store lock, then
// answers with the view op returns and status (No Content when the view is
// nil), or with op's error.
func (e *Emulator) answer(w http.ResponseWriter, c caller, status int, op func(app *application) (any, *apiError)) {
	app, aerr := e.lockedApp(c.appID)
	if aerr != nil {
		aerr.write(w)
		return
	}
	var view any
	func() {
		defer e.mu.Unlock()
		view, aerr = op(app)
	}()
	switch {
	case aerr != nil:
		aerr.write(w)
	case view == nil:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, view)
	}
}

// conversation finds a conversation by id (or, as the Client SDK's
// getConversation allows, by name); the caller holds e.mu.
func (a *application) conversation(id string) (*conversation, *apiError) {
	if cv := a.convs[id]; cv != nil {
		return cv, nil
	}
	if cv := a.convNames[id]; cv != nil {
		return cv, nil
	}
	return nil, errNotFound(codeConversationNotFound, "Conversation %s does not exist, or you do not have access.", id)
}

// member finds a member of the conversation by id; the caller holds e.mu.
func (cv *conversation) member(id string) (*member, *apiError) {
	for _, m := range cv.members {
		if m.id == id {
			return m, nil
		}
	}
	return nil, errNotFound(codeMemberNotFound, "Member %s does not exist in conversation %s.", id, cv.id)
}

// activeMember returns the user's member that has not left, or nil.
func (cv *conversation) activeMember(userID string) *member {
	for i := len(cv.members) - 1; i >= 0; i-- {
		if m := cv.members[i]; m.userID == userID && m.state != stateLeft {
			return m
		}
	}
	return nil
}

// latestMember returns the user's newest member (of any state), or nil.
func (cv *conversation) latestMember(userID string) *member {
	for i := len(cv.members) - 1; i >= 0; i-- {
		if m := cv.members[i]; m.userID == userID {
			return m
		}
	}
	return nil
}

// callerUser resolves a user token's sub to its user; nil for admin tokens.
func (a *application) callerUser(c caller) (*user, *apiError) {
	if c.user == "" {
		return nil, nil
	}
	u := a.byName[c.user]
	if u == nil {
		return nil, &apiError{status: http.StatusUnauthorized, code: codeInvalidToken, title: "Unauthorized.",
			detail: fmt.Sprintf("The token's sub %q names no user of this application.", c.user)}
	}
	return u, nil
}

// meMember resolves members/me: the caller's newest member of the conversation.
func (a *application) meMember(cv *conversation, c caller) (*member, *apiError) {
	if c.user == "" {
		return nil, errNotFound(codeMemberNotFound, "An admin token has no member: members/me needs a user token (a JWT with sub).")
	}
	u, aerr := a.callerUser(c)
	if aerr != nil {
		return nil, aerr
	}
	m := cv.latestMember(u.id)
	if m == nil {
		return nil, errNotFound(codeMemberNotFound, "User %s is not a member of conversation %s.", u.name, cv.id)
	}
	return m, nil
}

// appendEvent numbers a new event, stores it and pushes it to the sessions of
// the conversation's members; the caller holds e.mu, so events reach every
// session in the order of their ids.
func (e *Emulator) appendEvent(app *application, cv *conversation, ev *event, extra ...string) *event {
	ev.id = uint64(len(cv.events)) + 1
	if ev.createdAt.IsZero() {
		ev.createdAt = e.now()
	}
	cv.events = append(cv.events, ev)
	e.publish(app, cv, ev, extra...)
	return ev
}

// memberEvent records a member:invited|joined|left system event for m.
func (e *Emulator) memberEvent(app *application, cv *conversation, m *member, by *member) {
	typ := "member:" + strings.ToLower(m.state)
	ev := &event{typ: typ, to: m.id, body: memberEventBody(app, cv, m)}
	if by != nil {
		ev.from = by.id
	} else {
		ev.from = m.id
	}
	var extra []string
	if m.state == stateLeft {
		extra = []string{m.userID} // the leaving user still hears it left
	}
	e.appendEvent(app, cv, ev, extra...)
}

// memberEventBody is the body of a member event: the member, its user, the
// conversation, the member's channel and media (the Client SDK drops member
// events without them) and its timestamps.
func memberEventBody(app *application, cv *conversation, m *member) map[string]any {
	channel := m.channel
	if channel == nil {
		channel = map[string]any{"type": "app"}
	}
	media := m.media
	if media == nil {
		media = map[string]any{"audio_settings": map[string]any{"enabled": false, "earmuffed": false, "muted": false}, "audio": false}
	}
	conv := map[string]any{"conversation_id": cv.id, "name": cv.name}
	if cv.displayName != "" {
		conv["display_name"] = cv.displayName
	}
	body := map[string]any{
		"member_id":    m.id,
		"user":         userRef(app, m),
		"conversation": conv,
		"channel":      channel,
		"media":        media,
		"timestamp":    memberTimestamps(m),
	}
	if init, ok := m.initiator[strings.ToLower(m.state)]; ok {
		body["initiator"] = init
	}
	return body
}

// userRef is the user a member stands for, named as it is now (or as it was
// when the member was made, if the user has since been deleted).
func userRef(app *application, m *member) map[string]any {
	ref := map[string]any{"id": m.userID, "user_id": m.userID, "name": m.userName}
	if u := app.users[m.userID]; u != nil {
		ref["name"] = u.name
		if u.displayName != "" {
			ref["display_name"] = u.displayName
		}
		if u.imageURL != "" {
			ref["image_url"] = u.imageURL
		}
	}
	return ref
}

// memberTimestamps lists only the states the member has reached.
func memberTimestamps(m *member) map[string]any {
	ts := map[string]any{}
	if !m.invitedAt.IsZero() {
		ts["invited"] = formatTime(m.invitedAt)
	}
	if !m.joinedAt.IsZero() {
		ts["joined"] = formatTime(m.joinedAt)
	}
	if !m.leftAt.IsZero() {
		ts["left"] = formatTime(m.leftAt)
	}
	return ts
}

// formatTime renders a platform timestamp (RFC 3339, UTC, milliseconds).
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
