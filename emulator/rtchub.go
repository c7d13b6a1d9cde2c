package emulator

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// maxQueuedFrames bounds what a session may fall behind by before the platform
// drops it, so one stalled client cannot hold the emulator's memory.
const maxQueuedFrames = 10000

// rtcHub holds the Client SDK sessions connected over /v2/rtc, by id and by
// user, so that conversation events reach the sessions of their members.
type rtcHub struct {
	mu       sync.Mutex
	sessions map[string]*rtcSession
	byUser   map[userKey]map[*rtcSession]struct{}
	seq      uint64
	// conns counts open socket connections, so Close can wait for them;
	// closed refuses new ones (both under mu).
	conns  sync.WaitGroup
	closed bool
}

// enter registers a new socket connection; it reports false once the hub is
// closed.
func (h *rtcHub) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns.Add(1)
	return true
}

// Close ends every Client SDK session (each client is sent the disconnect
// packet) and waits until their connections have closed. Sockets opened
// afterwards are refused. http.Server.Shutdown does not do this: it does not
// track upgraded connections.
func (e *Emulator) Close() {
	h := &e.rtc
	h.mu.Lock()
	h.closed = true
	open := make([]*rtcSession, 0, len(h.sessions))
	for _, s := range h.sessions {
		open = append(open, s)
	}
	h.mu.Unlock()
	for _, s := range open {
		if s.closeWith != nil {
			s.closeWith("", nil)
		}
	}
	h.conns.Wait()
}

// userKey names a user of an application.
type userKey struct{ appID, userID string }

// rtcSession is one connected Client SDK session.
type rtcSession struct {
	seq                       uint64
	id, appID, userID, userNm string
	createdAt                 time.Time
	queue                     frameQueue
	// pongDue is when the client's answer to the last ping is due (Unix ns),
	// 0 when none is outstanding.
	pongDue atomic.Int64

	// closeWith ends the session's connection, after flushing what is queued,
	// with a final event; set by the transport before the session is shared.
	closeWith func(event string, payload any)

	mu     sync.Mutex  // guards expiry
	expiry *time.Timer // ends the session when its token expires
}

// expireAt (re)arms the session's end at its token's exp: the platform ends a
// session whose token expires, and the Client SDK reports EXPIRED_TOKEN unless
// the app called refreshSession with a new token in time.
func (s *rtcSession) expireAt(exp, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expiry != nil {
		s.expiry.Stop()
	}
	s.expiry = time.AfterFunc(exp.Sub(now), func() {
		if s.closeWith != nil {
			s.closeWith("", nil)
		}
	})
}

// stopExpiry disarms the expiry timer of a session that has ended.
func (s *rtcSession) stopExpiry() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expiry != nil {
		s.expiry.Stop()
	}
}

func (h *rtcHub) init() {
	h.sessions = make(map[string]*rtcSession)
	h.byUser = make(map[userKey]map[*rtcSession]struct{})
}

// open registers a new session for a user and returns it; closeWith is how
// the transport ends the session's connection. A reconnecting client names
// its earlier session id, which it keeps unless another session holds it.
func (h *rtcHub) open(appID, userID, userName, id string, now time.Time, closeWith func(event string, payload any)) *rtcSession {
	s := &rtcSession{appID: appID, userID: userID, userNm: userName, createdAt: now, closeWith: closeWith}
	s.queue.init()
	h.mu.Lock()
	if id == "" || h.sessions[id] != nil {
		id = "SES-" + uuid.NewString()
	}
	s.id = id
	h.seq++
	s.seq = h.seq
	h.sessions[s.id] = s
	k := userKey{appID, userID}
	if h.byUser[k] == nil {
		h.byUser[k] = make(map[*rtcSession]struct{})
	}
	h.byUser[k][s] = struct{}{}
	h.mu.Unlock()
	return s
}

// lookup finds an open session by id.
func (h *rtcHub) lookup(id string) *rtcSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[id]
}

// close forgets a session; it is safe to call more than once.
func (h *rtcHub) close(s *rtcSession) {
	s.stopExpiry()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[s.id] != s {
		return
	}
	delete(h.sessions, s.id)
	k := userKey{s.appID, s.userID}
	delete(h.byUser[k], s)
	if len(h.byUser[k]) == 0 {
		delete(h.byUser, k)
	}
}

// userSessions lists a user's sessions, oldest first.
func (h *rtcHub) userSessions(appID, userID string) []*rtcSession {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*rtcSession
	for s := range h.byUser[userKey{appID, userID}] {
		out = append(out, s)
	}
	sortBySeq(out, func(s *rtcSession) uint64 { return s.seq })
	return out
}

// publish queues an event for the sessions of every user with an invited or
// joined member in the conversation, and of the extra users named. The caller
// holds e.mu, so each session receives a conversation's events in id order.
func (e *Emulator) publish(app *application, cv *conversation, ev *event, extraUsers ...string) {
	h := &e.rtc
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.sessions) == 0 {
		return
	}
	var shared *encodedEvent // rendered once, on the first recipient
	deliver := func(userID string) {
		for s := range h.byUser[userKey{app.id, userID}] {
			if shared == nil {
				shared = &encodedEvent{event: ev.typ, payload: socketEvent(app, cv, ev)}
			}
			if !s.queue.push(frame{shared: shared}) && s.closeWith != nil {
				go s.closeWith("session:error:server-forced-disconnect", map[string]any{"reason": "the session fell too far behind"})
			}
		}
	}
	seen := make(map[string]bool, len(cv.members)+len(extraUsers))
	for _, m := range cv.members {
		if m.state != stateLeft && !seen[m.userID] {
			seen[m.userID] = true
			deliver(m.userID)
		}
	}
	for _, id := range extraUsers {
		if !seen[id] {
			seen[id] = true
			deliver(id)
		}
	}
}

// socketEvent is an event as the platform pushes it to Client SDK sessions,
// as the SDK decodes it: its conversation as "cid", and the sending member and
// user embedded.
func socketEvent(app *application, cv *conversation, ev *event) map[string]any {
	out := map[string]any{
		"cid":             cv.id,
		"conversation_id": cv.id,
		"type":            ev.typ,
		"body":            ev.body,
		"timestamp":       formatTime(ev.createdAt),
		"application_id":  app.id,
	}
	if ev.id != 0 {
		out["id"] = ev.id
	}
	if ev.from != "" {
		out["from"] = ev.from
		if m, _ := cv.member(ev.from); m != nil {
			from := userRef(app, m)
			delete(from, "user_id")
			out["_embedded"] = map[string]any{"from_member": map[string]any{"id": m.id}, "from_user": from}
		}
	}
	if ev.to != "" {
		out["to"] = ev.to
	}
	if ev.clientRef != "" {
		out["client_ref"] = ev.clientRef
	}
	return out
}

// frame is one packet queued for a session: a socket.io event, one shared by
// every recipient of a conversation event, or a raw Engine.IO/socket.io
// packet; last closes the connection once it is sent.
type frame struct {
	event   string
	payload any
	shared  *encodedEvent
	raw     string
	last    bool
}

// text is the frame as it goes on the wire.
func (f frame) text() string {
	switch {
	case f.raw != "":
		return f.raw
	case f.shared != nil:
		return f.shared.text()
	default:
		return eventFrame(f.event, f.payload)
	}
}

// encodedEvent is an event pushed to several sessions: the first writer to
// send it encodes it, outside the store's lock, and the others reuse the text.
// Its payload is never mutated once published.
type encodedEvent struct {
	once    sync.Once
	event   string
	payload any
	encoded string
}

func (x *encodedEvent) text() string {
	x.once.Do(func() { x.encoded = eventFrame(x.event, x.payload) })
	return x.encoded
}

// frameQueue is an unbounded-until-maxQueuedFrames FIFO with a wake-up channel,
// so publishers never block on a slow client.
type frameQueue struct {
	mu     sync.Mutex
	items  []frame
	wake   chan struct{}
	closed bool
}

func (q *frameQueue) init() { q.wake = make(chan struct{}, 1) }

// push appends a frame; it reports false when the queue is full or closed.
func (q *frameQueue) push(f frame) bool {
	q.mu.Lock()
	if q.closed || len(q.items) >= maxQueuedFrames {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, f)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// pushFinal appends the frames even to a full queue, then refuses any more.
func (q *frameQueue) pushFinal(fs ...frame) {
	q.mu.Lock()
	if !q.closed {
		q.items = append(q.items, fs...)
		q.closed = true
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// drain takes every queued frame.
func (q *frameQueue) drain() []frame {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.items
	q.items = nil
	return out
}

// sessionView is a session as GET /{v}/users/{id}/sessions lists it, with
// the account key its session:success reported.
func (e *Emulator) sessionView(s *rtcSession, u *user) map[string]any {
	return map[string]any{
		"id": s.id,
		"_embedded": map[string]any{
			"user":    map[string]any{"id": u.id, "name": u.name},
			"api_key": e.sessionAPIKey(s.appID),
		},
		"properties": map[string]any{"ttl": 0},
		"timestamp":  map[string]any{"created": formatTime(s.createdAt)},
	}
}

// listUserSessions handles GET /{v}/users/{id}/sessions: the user's open Client
// SDK sessions, paged in the order they opened.
func (e *Emulator) listUserSessions(w http.ResponseWriter, r *http.Request, c caller) {
	q, ok := pageParams(w, r)
	if !ok {
		return
	}
	e.answer(w, c, http.StatusOK, func(app *application) (any, *apiError) {
		u, aerr := app.pathUser(r.PathValue("id"), c)
		if aerr != nil {
			return nil, aerr
		}
		page, links := paginate(e.rtc.userSessions(c.appID, u.id), func(s *rtcSession) uint64 { return s.seq }, q, baseURL(r))
		items := make([]any, 0, len(page))
		for _, s := range page {
			items = append(items, e.sessionView(s, u))
		}
		return pageView(q, "sessions", items, links), nil
	})
}

// deleteSession handles DELETE /{v}/sessions/{sid}: the session is logged out
// and its socket closed. A user token may end only its own sessions.
func (e *Emulator) deleteSession(w http.ResponseWriter, r *http.Request, c caller) {
	s := e.rtc.lookup(r.PathValue("sid"))
	if s == nil || s.appID != c.appID || (c.user != "" && c.user != s.userNm) {
		sessionNotFound(w)
		return
	}
	e.rtc.close(s)
	if s.closeWith != nil {
		s.closeWith("session:logged-out", map[string]any{"body": map[string]any{}})
	}
	w.WriteHeader(http.StatusNoContent)
}
