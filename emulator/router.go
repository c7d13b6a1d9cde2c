package emulator

import (
	"net/http"
	"sort"
	"strings"
)

// handler serves one platform endpoint for an authenticated caller.
type handler func(w http.ResponseWriter, r *http.Request, c caller)

// route is one endpoint of the platform. Its pattern is a slash-separated path
// in which "{name}" captures one segment into r.PathValue(name); "{v}" matches
// a Conversation API version (v0.3 or v1) and is captured like any other.
type route struct {
	method  string
	pattern []string
	// token is the handler of a bearer-token endpoint, basic that of an
	// Applications API endpoint (HTTP Basic api_key:api_secret).
	token handler
	basic func(http.ResponseWriter, *http.Request)
}

// routes lists every platform endpoint the emulator serves.
func (e *Emulator) routes() []route {
	tok := func(method, pattern string, h handler) route {
		return route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), token: h}
	}
	basic := func(method, pattern string, h func(http.ResponseWriter, *http.Request)) route {
		return route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), basic: h}
	}
	return []route{
		basic("GET", "/v2/applications", e.listApplications),
		basic("POST", "/v2/applications", e.createApplication),
		basic("GET", "/v2/applications/{id}", e.getApplication),
		basic("PUT", "/v2/applications/{id}", e.updateApplication),
		basic("DELETE", "/v2/applications/{id}", e.deleteApplication),

		tok("GET", "/v1/users", e.listUsers),
		tok("POST", "/v1/users", e.createUser),
		tok("GET", "/{v}/users/{id}", e.getUser),
		tok("PATCH", "/v1/users/{id}", e.updateUser),
		tok("DELETE", "/v1/users/{id}", e.deleteUser),
		tok("GET", "/{v}/users/{id}/conversations", e.listUserConversations),
		tok("GET", "/{v}/users/{id}/sessions", e.listUserSessions),

		tok("GET", "/{v}/conversations", e.listConversations),
		tok("POST", "/{v}/conversations", e.createConversation),
		tok("GET", "/{v}/conversations/{cid}", e.getConversation),
		tok("PUT", "/{v}/conversations/{cid}", e.updateConversation),
		tok("PATCH", "/{v}/conversations/{cid}", e.updateConversation),
		tok("DELETE", "/{v}/conversations/{cid}", e.deleteConversation),

		tok("GET", "/{v}/conversations/{cid}/members", e.listMembers),
		tok("POST", "/{v}/conversations/{cid}/members", e.createMember),
		tok("GET", "/{v}/conversations/{cid}/members/{mid}", e.getMember),
		tok("PATCH", "/{v}/conversations/{cid}/members/{mid}", e.updateMember),

		tok("GET", "/{v}/conversations/{cid}/events", e.listEvents),
		tok("POST", "/{v}/conversations/{cid}/events", e.createEvent),
		tok("GET", "/{v}/conversations/{cid}/events/{eid}", e.getEvent),
		tok("DELETE", "/{v}/conversations/{cid}/events/{eid}", e.deleteEvent),

		tok("DELETE", "/{v}/sessions/{sid}", e.deleteSession),

		// The Client SDK still calls v0.2 for these two.
		tok("PUT", "/v0.2/sessions/{sid}", e.refreshSession),
		tok("DELETE", "/v0.2/conversations/{cid}/members/{mid}", e.leaveMember),
	}
}

// match reports whether segs fits the pattern and, if so, records the captured
// segments on r.
func (rt route) match(segs []string, r *http.Request) bool {
	if len(segs) != len(rt.pattern) {
		return false
	}
	for i, p := range rt.pattern {
		s := segs[i]
		switch {
		case p == "{v}":
			if s != "v0.3" && s != "v1" {
				return false
			}
		case strings.HasPrefix(p, "{"):
			if s == "" {
				return false
			}
		case p != s:
			return false
		}
	}
	if r != nil {
		for i, p := range rt.pattern {
			if strings.HasPrefix(p, "{") {
				r.SetPathValue(p[1:len(p)-1], segs[i])
			}
		}
	}
	return true
}

// route dispatches a platform API request to its handler, answering 404 for
// unknown paths and 405 (with Allow) for unsupported methods.
func (e *Emulator) route(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	var allow []string
	for _, rt := range e.table {
		if !rt.match(segs, nil) {
			continue
		}
		if rt.method != r.Method {
			allow = append(allow, rt.method)
			continue
		}
		rt.match(segs, r)
		if rt.basic != nil {
			e.withBasic(w, r, rt.basic)
		} else {
			e.withToken(w, r, rt.token)
		}
		return
	}
	if len(allow) > 0 {
		sort.Strings(allow)
		methodNotAllowed(w, strings.Join(allow, ", "))
		return
	}
	writeProblem(w, http.StatusNotFound, codeRouteNotFound, "Not found.",
		"The emulator does not serve "+r.Method+" "+r.URL.Path+".")
}
