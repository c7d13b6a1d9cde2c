package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/internal/jwttest"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/keys"
)

// TestBearerEndpointsRefuseAmbiguousTokens presents, on every endpoint that
// takes a bearer token, tokens signed with the application's own key for a
// live user that differ from a good one only in a crit header or a repeated
// member. Each is refused with 401, and nothing changes. Each case has its
// own user, so one wrongly accepted deletion cannot hide another case.
func TestBearerEndpointsRefuseAmbiguousTokens(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	kid := keys.Thumbprint(&s.Key.PublicKey)
	token := func(username, headerExtra, claimsExtra string) string {
		now := time.Now().Unix()
		header := fmt.Sprintf(`{"alg":"RS256","typ":"JWT","kid":%q%s}`, kid, headerExtra)
		claims := fmt.Sprintf(`{"application_id":%q,"iat":%d,"exp":%d,"jti":"0b4a8a7e-3c61-4f4e-9d1b-2a6f7f1c0e21","sub":%q,"acl":{"paths":{"/*/users/**":{}}}%s}`,
			s.AppID, now, now+600, username, strings.ReplaceAll(claimsExtra, "{user}", username))
		return jwttest.SignRS256(t, s.Key, header, claims)
	}
	endpoints := []struct{ method, path, body string }{
		{http.MethodGet, "/v1/me", ""},
		{http.MethodPatch, "/v1/me", `{"display_name":"Someone Else"}`},
		{http.MethodPost, "/v1/logout", `{"scope":"global"}`},
		{http.MethodPost, "/v1/me/password", `{"current_password":"` + servertest.GoodPassword + `","new_password":"a different passphrase"}`},
		{http.MethodDelete, "/v1/me", `{"password":"` + servertest.GoodPassword + `"}`},
	}
	cases := []struct{ name, header, claims string }{
		{"crit with an unknown extension", `,"crit":["unknown-ext"],"unknown-ext":true`, ""},
		{"crit naming a registered claim", `,"crit":["exp"]`, ""},
		{"empty crit", `,"crit":[]`, ""},
		{"malformed crit", `,"crit":"unknown-ext"`, ""},
		{"header repeating alg", `,"alg":"RS256"`, ""},
		{"header repeating kid", `,"kid":"` + kid + `"`, ""},
		{"claims repeating sub", "", `,"sub":"{user}"`},
		{"claims repeating exp", "", fmt.Sprintf(`,"exp":%d`, time.Now().Unix()+300)},
		{"claims repeating a path of the acl", "", `,"acl":{"paths":{"/*/users/**":{},"/*/users/**":{"methods":["GET"]}}}`},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			username := fmt.Sprintf("new-user-%d", i)
			id := servertest.UserID(s.Signup(username, servertest.GoodPassword))
			// The same construction with nothing wrong is accepted, so a
			// refusal below is for the reason the case names.
			good := token(username, "", "")
			if r := s.Do(http.MethodGet, "/v1/me", "", nil, "Authorization", "Bearer "+good); r.Status != http.StatusOK {
				t.Fatalf("a good hand-built token: %d %s", r.Status, r.Body)
			}
			bad := token(username, tc.header, tc.claims)
			for _, ep := range endpoints {
				ct := ""
				if ep.body != "" {
					ct = "application/json"
				}
				r := s.Do(ep.method, ep.path, ct, strings.NewReader(ep.body), "Authorization", "Bearer "+bad)
				if r.Status != http.StatusUnauthorized || r.JSON(t)["code"] != "invalid_token" || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s %s: %d %s %s", ep.method, ep.path, r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
				}
			}
			// Nothing changed: the user, its profile, its password and its
			// session stand.
			me := s.Do(http.MethodGet, "/v1/me", "", nil, "Authorization", "Bearer "+good)
			if me.Status != http.StatusOK || me.JSON(t)["display_name"] == "Someone Else" {
				t.Fatalf("after the refusals: %d %s", me.Status, me.Body)
			}
			if n := s.liveSessions(id); n != 1 {
				t.Fatalf("%d live sessions, want 1", n)
			}
			s.MustLogin(username, servertest.GoodPassword)
		})
	}
}
