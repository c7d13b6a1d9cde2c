package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// Client SDK sessions speak socket.io v4 (the Engine.IO v4 and socket.io v5
// protocols) over a WebSocket at /v2/rtc, as @vonage/client-sdk connects: no
// long-polling, the JWT in the handshake query, a bare connect packet, and
// events as ["name", {…}] arrays. The framing is small enough to write here,
// which keeps every session's frames in one ordered queue.

// Engine.IO timing the emulator announces in its open packet.
const (
	rtcPingInterval = 25 * time.Second
	rtcPingTimeout  = 20 * time.Second
	// rtcConnectWait is how long the client has to send its connect packet.
	rtcConnectWait = 10 * time.Second
	rtcMaxPayload  = 1000000
)

// rtcPath is where the Client SDK opens its socket (its default websocketPath).
const rtcPath = "/v2/rtc"

// serveRTC handles the socket.io endpoint: a WebSocket upgrade at /v2/rtc, and
// the SDK's reconnection metrics posted under it, which are accepted and
// dropped.
func (e *Emulator) serveRTC(w http.ResponseWriter, r *http.Request) {
	if strings.TrimSuffix(r.URL.Path, "/") == rtcPath+"/metrics" {
		w.WriteHeader(http.StatusOK)
		return
	}
	q := r.URL.Query()
	if q.Get("EIO") != "4" || q.Get("transport") != "websocket" {
		writeProblem(w, http.StatusBadRequest, codeValidation, "Bad request.",
			"This endpoint speaks socket.io v4 over WebSocket only (EIO=4&transport=websocket).",
			invalidParameter{Name: "transport", Reason: "only websocket is served"})
		return
	}
	if !e.rtc.enter() {
		writeProblem(w, http.StatusServiceUnavailable, codeInternal, "Service unavailable.", "The emulator is shutting down.")
		return
	}
	defer e.rtc.conns.Done()
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered
	}
	conn.SetReadLimit(rtcMaxPayload)
	sock := &rtcSocket{e: e, conn: conn, sid: uuid.NewString()}
	sock.run(r.Context(), q.Get("token"), q.Get("session_id"))
}

// rtcSocket is one WebSocket connection; once its token is verified it carries
// one session.
type rtcSocket struct {
	e    *Emulator
	conn *websocket.Conn
	sid  string // the Engine.IO session id
	sess *rtcSession
}

// run serves the connection until either side ends it.
func (s *rtcSocket) run(ctx context.Context, token, sessionID string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer s.conn.CloseNow()

	open, _ := json.Marshal(map[string]any{
		"sid": s.sid, "upgrades": []string{},
		"pingInterval": rtcPingInterval.Milliseconds(), "pingTimeout": rtcPingTimeout.Milliseconds(),
		"maxPayload": rtcMaxPayload,
	})
	if s.write(ctx, "0"+string(open)) != nil {
		return
	}
	// The client's connect packet ("40") comes first; the session answers it.
	readCtx, stop := context.WithTimeout(ctx, rtcConnectWait)
	_, msg, err := s.conn.Read(readCtx)
	stop()
	if err != nil || !strings.HasPrefix(string(msg), "40") {
		return
	}
	nsp, _ := json.Marshal(map[string]string{"sid": s.sid})
	if s.write(ctx, "40"+string(nsp)) != nil {
		return
	}
	sess, expires, refusal := s.e.openSession(token, sessionID, s.end)
	if refusal != nil {
		// The SDK turns an error event into a rejected createSession at once;
		// a silently closed socket would leave it waiting for its timeout.
		_ = s.write(ctx, eventFrame(refusal.event, map[string]any{"body": map[string]any{
			"code": refusal.event, "description": refusal.detail}}))
		_ = s.write(ctx, "41")
		s.conn.Close(websocket.StatusNormalClosure, "")
		return
	}
	s.sess = sess
	defer s.e.rtc.close(sess)
	sess.expireAt(expires, s.e.now())
	sess.queue.push(frame{event: "session:success", payload: map[string]any{"body": map[string]any{
		"id": sess.id, "user_id": sess.userID, "name": sess.userNm, "api_key": s.e.sessionAPIKey(sess.appID)}}})

	go s.readLoop(ctx, cancel)
	s.writeLoop(ctx)
}

// end is the session's closeWith: it queues a last event (when event is not
// empty) and the disconnect packet, after which the connection closes.
func (s *rtcSocket) end(event string, payload any) {
	if event == "" {
		s.sess.queue.pushFinal(frame{raw: "41", last: true})
		return
	}
	s.sess.queue.pushFinal(frame{event: event, payload: payload}, frame{raw: "41", last: true})
}

// writeLoop sends the session's queued frames in order and pings the client
// every rtcPingInterval; it returns when the connection ends.
func (s *rtcSocket) writeLoop(ctx context.Context) {
	ping := time.NewTicker(rtcPingInterval)
	defer ping.Stop()
	q := &s.sess.queue
	for {
		for _, f := range q.drain() {
			if f.last {
				// The session is over before the client hears so (it may
				// list its sessions the moment it does) and before the
				// closing handshake, which waits for the client's answer.
				s.e.rtc.close(s.sess)
			}
			if s.write(ctx, f.text()) != nil {
				return
			}
			if f.last {
				s.conn.Close(websocket.StatusNormalClosure, "")
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-ping.C:
			s.sess.pongDue.Store(time.Now().Add(rtcPingTimeout).UnixNano())
			if s.write(ctx, "2") != nil {
				return
			}
		}
	}
}

// readLoop reads the client's packets: pongs, its disconnect and the events it
// emits (session:logout); it cancels the connection when the client goes or
// misses a pong.
func (s *rtcSocket) readLoop(ctx context.Context, cancel context.CancelFunc) {
	defer cancel()
	for {
		readCtx, stop := context.WithTimeout(ctx, rtcPingInterval+rtcPingTimeout)
		_, msg, err := s.conn.Read(readCtx)
		stop()
		if err != nil {
			return
		}
		switch p := string(msg); {
		case p == "3":
			s.sess.pongDue.Store(0)
		case p == "2":
			s.sess.queue.push(frame{raw: "3"})
		case strings.HasPrefix(p, "41"), p == "1":
			return
		case strings.HasPrefix(p, "42"):
			s.clientEvent(p[2:])
		}
		if due := s.sess.pongDue.Load(); due != 0 && time.Now().UnixNano() > due {
			return
		}
	}
}

// clientEvent handles an event the SDK emits: ["session:logout", {tid, body}]
// ends the session with session:logged-out; others are ignored, as the
// platform ignores what it does not know.
func (s *rtcSocket) clientEvent(data string) {
	// Strip an ack id the client may have put before the array.
	if i := strings.IndexByte(data, '['); i > 0 {
		data = data[i:]
	}
	var args []json.RawMessage
	if json.Unmarshal([]byte(data), &args) != nil || len(args) == 0 {
		return
	}
	var name string
	if json.Unmarshal(args[0], &name) != nil {
		return
	}
	if name != "session:logout" {
		return
	}
	var msg struct {
		TID string `json:"tid"`
	}
	if len(args) > 1 {
		_ = json.Unmarshal(args[1], &msg)
	}
	s.e.rtc.close(s.sess)
	s.end("session:logged-out", map[string]any{"tid": msg.TID, "body": map[string]any{}})
}

// write sends one text frame.
func (s *rtcSocket) write(ctx context.Context, text string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return s.conn.Write(ctx, websocket.MessageText, []byte(text))
}

// eventFrame encodes a socket.io EVENT packet: 42["name", payload].
func eventFrame(event string, payload any) string {
	name, _ := json.Marshal(event)
	body, err := json.Marshal(payload)
	if err != nil {
		body = []byte("{}")
	}
	var b strings.Builder
	b.Grow(len(name) + len(body) + 5)
	b.WriteString(`42[`)
	b.Write(name)
	b.WriteByte(',')
	b.Write(body)
	b.WriteByte(']')
	return b.String()
}

// sessionRefusal is why a session was not opened: the platform's error event
// and a description.
type sessionRefusal struct {
	event, detail string
}

// openSession verifies a session's JWT as the platform verifies REST tokens
// (signature, application, expiry, lifetime, an existing user, and an ACL that
// allows the sessions API) and registers the session. A reconnecting client
// names its session; it keeps that id when it is its own and not in use.
func (e *Emulator) openSession(token, sessionID string, closeWith func(string, any)) (*rtcSession, time.Time, *sessionRefusal) {
	if token == "" {
		return nil, time.Time{}, &sessionRefusal{codeInvalidToken, "The handshake carries no token."}
	}
	c, terr := e.verifyToken(token, http.MethodGet, "/v0.3/sessions")
	if terr != nil {
		return nil, time.Time{}, &sessionRefusal{terr.errorCode(), terr.detail}
	}
	if c.user == "" {
		return nil, time.Time{}, &sessionRefusal{codeInvalidToken, "A Client SDK session needs a user token (a JWT with sub)."}
	}
	e.mu.Lock()
	var userID string
	if app := e.apps[c.appID]; app != nil && app.byName[c.user] != nil {
		userID = app.byName[c.user].id
	}
	e.mu.Unlock()
	if userID == "" {
		return nil, time.Time{}, &sessionRefusal{codeInvalidToken, "The token's sub names no user of this application."}
	}
	return e.rtc.open(c.appID, userID, c.user, sessionID, e.now(), closeWith), c.expires, nil
}

// sessionAPIKey is the account key session:success reports.
func (e *Emulator) sessionAPIKey(appID string) string {
	if e.apiKey != "" {
		return e.apiKey
	}
	return appID
}

// refreshSession handles PUT /v0.2/sessions/{sid}, the Client SDK's
// refreshSession: the bearer (already verified) is the session's new token,
// and the session now lasts until it expires.
func (e *Emulator) refreshSession(w http.ResponseWriter, r *http.Request, c caller) {
	s := e.rtc.lookup(r.PathValue("sid"))
	if s == nil || s.appID != c.appID || c.user != s.userNm {
		sessionNotFound(w)
		return
	}
	s.expireAt(c.expires, e.now())
	writeJSON(w, http.StatusOK, map[string]any{"session_id": s.id})
}

// sessionNotFound answers 404 for an unknown (or someone else's) session.
func sessionNotFound(w http.ResponseWriter) {
	writeProblem(w, http.StatusNotFound, "session:error:not-found", "Not found.",
		"Session does not exist, or you do not have access.")
}
