package emulator

import (
	"net/http"
)

// The two renderings of the Conversation API model. v0.3 follows the reference
// (conversation-api-v0.3.txt) and what the Client SDK decodes; v1 follows what
// @vonage/conversations sends and decodes. The caller of every view holds e.mu.

// apiVersion is the version segment the request came in on.
func apiVersion(r *http.Request) string {
	if v := r.PathValue("v"); v != "" {
		return v
	}
	return "v1"
}

// self is a HAL links object holding one self link.
func self(href string) map[string]link {
	return map[string]link{"self": {Href: href}}
}

// conversationHref is a conversation's absolute address in the request's version.
func conversationHref(r *http.Request, id string) string {
	return baseURL(r) + "/" + apiVersion(r) + "/conversations/" + id
}

// conversationView is the full representation of a conversation.
func conversationView(r *http.Request, cv *conversation) map[string]any {
	props := cv.properties
	if props == nil {
		props = map[string]any{}
	}
	view := map[string]any{
		"id":              cv.id,
		"name":            cv.name,
		"state":           "ACTIVE",
		"sequence_number": len(cv.events),
		"timestamp": map[string]any{
			"created": formatTime(cv.createdAt),
			"updated": formatTime(cv.updatedAt),
		},
		"properties": props,
		"_links":     self(conversationHref(r, cv.id)),
	}
	if cv.displayName != "" {
		view["display_name"] = cv.displayName
	}
	if cv.imageURL != "" {
		view["image_url"] = cv.imageURL
	}
	if cv.numbers != nil {
		view["numbers"] = cv.numbers
	}
	return view
}

// conversationSummary is a conversation as listings embed it.
func conversationSummary(r *http.Request, cv *conversation) map[string]any {
	view := map[string]any{
		"id":        cv.id,
		"name":      cv.name,
		"state":     "ACTIVE",
		"timestamp": map[string]any{"created": formatTime(cv.createdAt)},
		"_links":    self(conversationHref(r, cv.id)),
	}
	if cv.displayName != "" {
		view["display_name"] = cv.displayName
	}
	if cv.imageURL != "" {
		view["image_url"] = cv.imageURL
	}
	return view
}

// userConversationView is a conversation as a user's listing embeds it, with
// the user's member in it.
func userConversationView(r *http.Request, cv *conversation, m *member) map[string]any {
	view := conversationSummary(r, cv)
	view["_embedded"] = map[string]any{"id": m.id, "state": m.state,
		"member": map[string]any{"id": m.id, "state": m.state}}
	return view
}

// memberHref is a member's absolute address in the request's version.
func memberHref(r *http.Request, m *member) string {
	return conversationHref(r, m.convID) + "/members/" + m.id
}

// embeddedUser is the user object members embed.
func embeddedUser(r *http.Request, app *application, m *member) map[string]any {
	ref := userRef(app, m)
	delete(ref, "user_id")
	ref["_links"] = self(baseURL(r) + "/" + apiVersion(r) + "/users/" + m.userID)
	return ref
}

// memberView is the full representation of a member.
func memberView(r *http.Request, app *application, m *member) map[string]any {
	view := map[string]any{
		"id":              m.id,
		"conversation_id": m.convID,
		"state":           m.state,
		"timestamp":       memberTimestamps(m),
		"initiator":       initiatorView(r, m.initiator),
		"channel":         m.channel,
		"_embedded":       map[string]any{"user": embeddedUser(r, app, m)},
		"_links":          self(memberHref(r, m)),
	}
	if m.media != nil {
		view["media"] = m.media
	}
	return view
}

// initiatorView renders who brought a member into each state: v0.3 spells the
// flag isSystem as the reference does, v1 is_system as the server SDKs read it.
func initiatorView(r *http.Request, initiator map[string]any) map[string]any {
	if apiVersion(r) == "v0.3" {
		return initiator
	}
	out := make(map[string]any, len(initiator))
	for state, raw := range initiator {
		in, _ := raw.(map[string]any)
		conv := make(map[string]any, len(in))
		for k, v := range in {
			if k == "isSystem" {
				k = "is_system"
			}
			conv[k] = v
		}
		out[state] = conv
	}
	return out
}

// memberSummary is a member as listings embed it.
func memberSummary(r *http.Request, app *application, m *member) map[string]any {
	return map[string]any{
		"id":        m.id,
		"state":     m.state,
		"_embedded": map[string]any{"user": embeddedUser(r, app, m)},
		"_links":    self(memberHref(r, m)),
	}
}

// eventHref is an event's absolute address in the request's version.
func eventHref(r *http.Request, cv *conversation, ev *event) string {
	return conversationHref(r, cv.id) + "/events/" + itoa(ev.id)
}

// eventView is the full representation of an event, with the sending member
// and its user embedded (as @vonage/conversations and the Client SDK decode
// them); v0.3 adds the event's address as href.
func eventView(r *http.Request, app *application, cv *conversation, ev *event) map[string]any {
	view := map[string]any{
		"id":              ev.id,
		"type":            ev.typ,
		"body":            ev.body,
		"timestamp":       formatTime(ev.createdAt),
		"conversation_id": cv.id,
		"_links":          self(eventHref(r, cv, ev)),
	}
	if ev.from != "" {
		view["from"] = ev.from
	}
	if ev.to != "" {
		view["to"] = ev.to
	}
	if ev.clientRef != "" {
		view["client_ref"] = ev.clientRef
	}
	if apiVersion(r) == "v0.3" {
		view["href"] = eventHref(r, cv, ev)
	}
	if m, _ := cv.member(ev.from); m != nil {
		view["_embedded"] = map[string]any{
			"from_member": map[string]any{"id": m.id},
			"from_user":   embeddedUser(r, app, m),
		}
	}
	return view
}

// createdEventView answers an event create: v0.3 gives the id, timestamp and
// address; v1 the full event. An ephemeral event has only its timestamp.
func createdEventView(r *http.Request, app *application, cv *conversation, ev *event) map[string]any {
	if ev.id == 0 {
		return map[string]any{"timestamp": formatTime(ev.createdAt)}
	}
	if apiVersion(r) == "v0.3" {
		return map[string]any{"id": ev.id, "timestamp": formatTime(ev.createdAt), "href": eventHref(r, cv, ev)}
	}
	return eventView(r, app, cv, ev)
}

// pageView is a paged listing: page_size, the items embedded under key and the
// HAL links.
func pageView(q pageQuery, key string, items []any, links map[string]link) map[string]any {
	return map[string]any{
		"page_size": q.pageSize,
		"_embedded": map[string]any{key: items},
		"_links":    links,
	}
}

// eventPageView is a paged event listing: v0.3 embeds the events under
// "events", v1 makes _embedded the array itself.
func eventPageView(r *http.Request, q pageQuery, items []any, links map[string]link) map[string]any {
	if apiVersion(r) == "v0.3" {
		return pageView(q, "events", items, links)
	}
	return map[string]any{"page_size": q.pageSize, "_embedded": items, "_links": links}
}
