package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sdkauth/sdkauth/internal/testkit"
)

// rtcClient is a minimal socket.io v4 client over a WebSocket, speaking to the
// emulator as @vonage/client-sdk does.
type rtcClient struct {
	t    testing.TB
	conn *websocket.Conn
}

// dialRTC opens /v2/rtc with the token in the handshake query and sends the
// connect packet after the open packet.
func dialRTC(t testing.TB, srvURL, token string) *rtcClient {
	t.Helper()
	q := url.Values{"token": {token}, "session_version": {"0.0.3"}, "EIO": {"4"}, "transport": {"websocket"}}
	u := "ws" + strings.TrimPrefix(srvURL, "http") + "/v2/rtc/?" + q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	c := &rtcClient{t: t, conn: conn}
	t.Cleanup(func() { conn.CloseNow() })
	open := c.read()
	var o struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int      `json:"pingInterval"`
	}
	if !strings.HasPrefix(open, "0") || json.Unmarshal([]byte(open[1:]), &o) != nil || o.SID == "" || o.Upgrades == nil || o.PingInterval == 0 {
		t.Fatalf("open packet = %q", open)
	}
	c.send("40")
	if ack := c.read(); !strings.HasPrefix(ack, `40{"sid":`) {
		t.Fatalf("connect answer = %q", ack)
	}
	return c
}

func (c *rtcClient) send(text string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next frame, or "" when the connection closed.
func (c *rtcClient) read() string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, msg, err := c.conn.Read(ctx)
	if err != nil {
		return ""
	}
	return string(msg)
}

// event reads the next frame as a socket.io event, skipping pings.
func (c *rtcClient) event() (string, map[string]any) {
	c.t.Helper()
	for {
		f := c.read()
		switch {
		case f == "2":
			c.send("3")
			continue
		case !strings.HasPrefix(f, "42["):
			c.t.Fatalf("frame %q is not an event", f)
		}
		var args []json.RawMessage
		var name string
		var payload map[string]any
		if json.Unmarshal([]byte(f[2:]), &args) != nil || len(args) != 2 || json.Unmarshal(args[0], &name) != nil || json.Unmarshal(args[1], &payload) != nil {
			c.t.Fatalf("malformed event frame %q", f)
		}
		return name, payload
	}
}

func TestRTCSessionOpensListsAndEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid := e.createUser("new-user")
	tok := e.userToken("new-user", clientSDKACL())
	c := dialRTC(t, e.srv.URL, tok)
	name, p := c.event()
	body, _ := p["body"].(map[string]any)
	sid, _ := body["id"].(string)
	if name != "session:success" || !strings.HasPrefix(sid, "SES-") || body["user_id"] != uid || body["name"] != "new-user" || body["api_key"] == nil {
		t.Fatalf("first event = %s %v", name, p)
	}
	list := e.do("GET", "/v0.3/users/"+uid+"/sessions", tok, nil).want(t, 200).embedded("sessions")
	if len(list) != 1 || list[0]["id"] != sid {
		t.Fatalf("sessions = %v", list)
	}
	e.do("PUT", "/v0.2/sessions/"+sid, e.userToken("new-user", clientSDKACL()), "").want(t, 200)
	e.do("PUT", "/v0.2/sessions/SES-nope", tok, "").wantProblem(t, 404, "session:error:not-found")

	// The SDK's deleteSession: session:logout, answered with session:logged-out.
	c.send(`42["session:logout",{"tid":"t-1","body":{}}]`)
	if name, p := c.event(); name != "session:logged-out" || p["tid"] != "t-1" {
		t.Fatalf("logout answer = %s %v", name, p)
	}
	if f := c.read(); f != "41" {
		t.Fatalf("after logout: %q, want the disconnect 41", f)
	}
	testkit.WaitFor(t, 5*time.Second, "the logged-out session to leave the listing", func() bool {
		return len(e.do("GET", "/v1/users/"+uid+"/sessions", tok, nil).want(t, 200).embedded("sessions")) == 0
	})

	// DELETE of a session at the REST API logs it out too.
	c2 := dialRTC(t, e.srv.URL, tok)
	_, p = c2.event()
	sid2 := p["body"].(map[string]any)["id"].(string)
	e.do("DELETE", "/v1/sessions/"+sid2, e.userToken("other-user-not-here", clientSDKACL()), nil).wantProblem(t, 401, "system:error:invalid-token")
	e.do("DELETE", "/v1/sessions/"+sid2, tok, nil).want(t, 204)
	if name, _ := c2.event(); name != "session:logged-out" {
		t.Fatalf("after DELETE: %s", name)
	}
}

func TestRTCRefusesWhatTheRESTAPIRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser("new-user")
	expired := claims(e.appID)
	expired["sub"], expired["acl"] = "new-user", clientSDKACL()
	expired["iat"], expired["exp"] = float64(1000), float64(1900)
	cases := map[string]struct{ token, event string }{
		"no token":        {"", "system:error:invalid-token"},
		"another key":     {sign(t, testkit.Key(t, 1), claims(e.appID)), "system:error:invalid-token"},
		"admin token":     {e.admin(), "system:error:invalid-token"},
		"unknown user":    {e.userToken("nobody", clientSDKACL()), "system:error:invalid-token"},
		"expired":         {sign(t, e.key, expired), "system:error:expired-token"},
		"no sessions acl": {e.userToken("new-user", map[string]any{"paths": map[string]any{"/*/users/**": map[string]any{}}}), "system:error:permission"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rc := dialRTC(t, e.srv.URL, c.token)
			got, p := rc.event()
			if got != c.event || p["body"].(map[string]any)["code"] != c.event {
				t.Fatalf("event = %s %v, want %s", got, p, c.event)
			}
			if f := rc.read(); f != "41" {
				t.Fatalf("after the refusal: %q, want 41", f)
			}
		})
	}
	// Anything but a socket.io v4 WebSocket is refused in Vonage's shape.
	e.do("GET", "/v2/rtc/?EIO=3&transport=polling", "", nil).wantProblem(t, 400, "http:error:validation-fail")
}

// TestRTCPushesEventsToMembersInIDOrder has several members send at once and
// checks that every member's session receives every event, in id order, and
// that a user who is not a member receives none.
func TestRTCPushesEventsToMembersInIDOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cid := e.createConv("v1", "c")
	const members, perMember = 4, 25
	var clients []*rtcClient
	var mids []string
	for i := range members {
		name := fmt.Sprintf("member-%d", i)
		e.createUser(name)
		tok := e.userToken(name, clientSDKACL())
		c := dialRTC(t, e.srv.URL, tok)
		if n, _ := c.event(); n != "session:success" {
			t.Fatal(n)
		}
		clients = append(clients, c)
		mids = append(mids, e.join("v1", cid, tok, name))
	}
	e.createUser("outsider")
	outsider := dialRTC(t, e.srv.URL, e.userToken("outsider", clientSDKACL()))
	outsider.event()

	var wg sync.WaitGroup
	for i, mid := range mids {
		tok := e.userToken(fmt.Sprintf("member-%d", i), clientSDKACL())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perMember {
				e.do("POST", "/v1/conversations/"+cid+"/events", tok, textEvent("v1", mid, fmt.Sprint(j))).want(t, 201)
			}
		}()
	}
	wg.Wait()
	total := members + members*perMember // the member:joined events, then the messages
	for i, c := range clients {
		last, messages := 0, 0
		for last < total {
			name, p := c.event()
			id := int(p["id"].(float64))
			if id <= last || p["cid"] != cid || p["timestamp"] == nil {
				t.Fatalf("client %d: %s id %d after %d (cid %v)", i, name, id, last, p["cid"])
			}
			// A member hears the joins that follow its own.
			last = id
			if name == "message" {
				messages++
				if p["_embedded"].(map[string]any)["from_user"] == nil {
					t.Fatalf("message without from_user: %v", p)
				}
			}
		}
		if messages != members*perMember {
			t.Errorf("client %d received %d messages, want %d", i, messages, members*perMember)
		}
	}
	// The outsider heard nothing: the next thing it gets is its own logout.
	outsider.send(`42["session:logout",{"tid":"x","body":{}}]`)
	if name, _ := outsider.event(); name != "session:logged-out" {
		t.Errorf("the outsider received %s", name)
	}
}

// TestRTCSessionsEndWhenTheirTokenExpires: the platform ends a session at its
// token's exp (the Client SDK then reports EXPIRED_TOKEN), unless the app has
// called refreshSession with a newer token.
func TestRTCSessionsEndWhenTheirTokenExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid := e.createUser("new-user")
	short := func() string {
		c := claims(e.appID)
		c["sub"], c["acl"] = "new-user", clientSDKACL()
		c["exp"] = float64(time.Now().Add(1500*time.Millisecond).UnixMilli()) / 1000
		return sign(t, e.key, c)
	}
	expiring := dialRTC(t, e.srv.URL, short())
	expiring.event()
	refreshed := dialRTC(t, e.srv.URL, short())
	_, p := refreshed.event()
	sid := p["body"].(map[string]any)["id"].(string)
	e.do("PUT", "/v0.2/sessions/"+sid, e.userToken("new-user", clientSDKACL()), "").want(t, 200)

	if f := expiring.read(); f != "41" {
		t.Fatalf("at expiry: %q, want the disconnect 41", f)
	}
	testkit.WaitFor(t, 5*time.Second, "only the refreshed session to be listed", func() bool {
		list := e.do("GET", "/v1/users/"+uid+"/sessions", e.admin(), nil).want(t, 200).embedded("sessions")
		return len(list) == 1 && list[0]["id"] == sid
	})
}
