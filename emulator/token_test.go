package emulator_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sdkauth/sdkauth/internal/testkit"
)

func TestTokenRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	newUserID := e.createUser("new-user")
	gone := e.createUser("gone")
	goneToken := e.userToken("gone", map[string]any{"paths": map[string]any{"/**": map[string]any{}}})
	e.do("DELETE", "/v1/users/"+gone, e.admin(), nil).want(t, 204)

	now := time.Now().Unix()
	with := func(mod func(jwt.MapClaims)) string {
		c := claims(e.appID)
		mod(c)
		return sign(t, e.key, c)
	}
	userACL := func(acl any) string { return e.userToken("new-user", acl) }
	all := map[string]any{"paths": map[string]any{"/*/users/**": map[string]any{}}}
	readOnly := map[string]any{"paths": map[string]any{"/*/users/**": map[string]any{"methods": []any{"GET"}}}}

	const invalid, permission = "system:error:invalid-token", "system:error:permission"
	cases := []struct {
		name         string
		token        func() string
		method, path string
		status       int
		code         string
	}{
		{"valid admin token", e.admin, "GET", "/v1/users", 200, ""},
		{"no token", func() string { return "" }, "GET", "/v1/users", 401, invalid},
		{"not a JWT", func() string { return "garbage" }, "GET", "/v1/users", 401, invalid},
		{"expired", func() string { return with(func(c jwt.MapClaims) { c["iat"], c["exp"] = now-1000, now-10 }) }, "GET", "/v1/users", 401, "system:error:expired-token"},
		{"iat in the future", func() string { return with(func(c jwt.MapClaims) { c["iat"], c["exp"] = now+120, now+900 }) }, "GET", "/v1/users", 401, invalid},
		{"iat within leeway", func() string { return with(func(c jwt.MapClaims) { c["iat"] = now + 10 }) }, "GET", "/v1/users", 200, ""},
		{"missing iat", func() string { return with(func(c jwt.MapClaims) { delete(c, "iat") }) }, "GET", "/v1/users", 401, invalid},
		{"iat not a number", func() string { return with(func(c jwt.MapClaims) { c["iat"] = "yesterday" }) }, "GET", "/v1/users", 401, invalid},
		{"missing jti", func() string { return with(func(c jwt.MapClaims) { delete(c, "jti") }) }, "GET", "/v1/users", 401, invalid},
		{"empty jti", func() string { return with(func(c jwt.MapClaims) { c["jti"] = "" }) }, "GET", "/v1/users", 401, invalid},
		{"missing exp", func() string { return with(func(c jwt.MapClaims) { delete(c, "exp") }) }, "GET", "/v1/users", 401, invalid},
		{"lifetime 90000 s", func() string { return with(func(c jwt.MapClaims) { c["exp"] = now + 90000 }) }, "GET", "/v1/users", 401, invalid},
		{"lifetime 86400 s", func() string { return with(func(c jwt.MapClaims) { c["exp"] = now + 86400 }) }, "GET", "/v1/users", 200, ""},
		{"nbf in the future", func() string { return with(func(c jwt.MapClaims) { c["nbf"] = now + 60 }) }, "GET", "/v1/users", 401, invalid},
		{"nbf in the past", func() string { return with(func(c jwt.MapClaims) { c["nbf"] = now - 60 }) }, "GET", "/v1/users", 200, ""},
		{"alg none", func() string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(e.appID)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "GET", "/v1/users", 401, invalid},
		{"HS256 with the public key as secret", func() string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims(e.appID)).SignedString([]byte(publicPEM(t, e.key)))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "GET", "/v1/users", 401, invalid},
		{"RS512 with the right key", func() string {
			s, err := jwt.NewWithClaims(jwt.SigningMethodRS512, claims(e.appID)).SignedString(e.key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}, "GET", "/v1/users", 401, invalid},
		{"signed with the wrong key", func() string { return sign(t, testkit.Key(t, 2), claims(e.appID)) }, "GET", "/v1/users", 401, invalid},
		{"tampered payload", func() string {
			parts := strings.Split(e.admin(), ".")
			c := claims(e.appID)
			c["exp"] = now + 3600
			other := strings.Split(sign(t, testkit.Key(t, 2), c), ".")
			return parts[0] + "." + other[1] + "." + parts[2]
		}, "GET", "/v1/users", 401, invalid},
		{"unknown application", func() string {
			return sign(t, e.key, claims("00000000-0000-4000-8000-000000000000"))
		}, "GET", "/v1/users", 401, invalid},
		{"missing application_id", func() string { return with(func(c jwt.MapClaims) { delete(c, "application_id") }) }, "GET", "/v1/users", 401, invalid},
		{"user token, unknown sub", func() string { return e.userToken("nobody", all) }, "GET", "/v1/users", 401, invalid},
		{"user token, deleted sub", func() string { return goneToken }, "GET", "/v1/users", 401, invalid},
		{"user token, empty sub", func() string { return e.userToken("", all) }, "GET", "/v1/users", 401, invalid},
		{"user token, acl allows", func() string { return userACL(all) }, "GET", "/v1/users/" + newUserID, 200, ""},
		{"user token, acl covers the collection", func() string { return userACL(all) }, "GET", "/v1/users", 200, ""},
		{"user token without acl", func() string { return userACL(nil) }, "GET", "/v1/users", 403, permission},
		{"user token, path not in acl", func() string {
			return userACL(map[string]any{"paths": map[string]any{"/*/conversations/**": map[string]any{}}})
		}, "GET", "/v1/users", 403, permission},
		{"user token, method not in acl", func() string { return userACL(readOnly) }, "PATCH", "/v1/users/" + newUserID, 403, permission},
		{"user token, method in acl", func() string { return userACL(readOnly) }, "GET", "/v1/users/" + newUserID, 200, ""},
		{"user token, malformed acl", func() string { return userACL("everything") }, "GET", "/v1/users", 403, permission},
		{"admin token with acl is unrestricted", func() string {
			return with(func(c jwt.MapClaims) { c["acl"] = map[string]any{"paths": map[string]any{}} })
		}, "GET", "/v1/users", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any(nil)
			if tc.method == "PATCH" {
				body = map[string]any{"display_name": "x"}
			}
			r := e.do(tc.method, tc.path, tc.token(), body)
			if tc.code == "" {
				r.want(t, tc.status)
				return
			}
			r.wantProblem(t, tc.status, tc.code)
			if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestTokenClockComesFromConfig(t *testing.T) {
	t.Parallel()
	// With the emulator's clock two hours behind, a fresh token's iat is in the future.
	skewed := newEnvWithNow(t, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	skewed.do("GET", "/v1/users", skewed.admin(), nil).wantProblem(t, 401, "system:error:invalid-token")
	c := claims(skewed.appID)
	c["iat"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-2*time.Hour+time.Minute).Unix()
	skewed.do("GET", "/v1/users", sign(t, skewed.key, c), nil).want(t, 200)
}

func TestTokenHeaderAlgMustBeExactlyRS256(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// A token whose header claims "rs256" (wrong case) but is otherwise valid.
	parts := strings.Split(e.admin(), ".")
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"rs256","typ":"JWT"}`))
	e.do("GET", "/v1/users", header+"."+parts[1]+"."+parts[2], nil).wantProblem(t, 401, "system:error:invalid-token")
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1/users", nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("k:s")))
	send(t, req).wantProblem(t, 401, "system:error:invalid-token")
}
