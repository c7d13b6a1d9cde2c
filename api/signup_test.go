package api_test

import (
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
	"github.com/sdkauth/sdkauth/keys"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestSignupIssuesAVonageClientSDKToken(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	body := s.Signup("new-user", "correct horse battery")

	if body["token_type"] != "Bearer" || body["expires_in"] != float64(900) || body["refresh_token"] == "" {
		t.Fatalf("token response: %v", body)
	}
	user := body["user"].(map[string]any)
	vid, _ := user["vonage_user_id"].(string)
	if user["username"] != "new-user" || !strings.HasPrefix(vid, "USR-") || user["provisioning"] != "provisioned" {
		t.Fatalf("user: %v", user)
	}

	tok := body["access_token"].(string)
	header := servertest.DecodeSegment(t, tok, 0)
	if header["alg"] != "RS256" || header["typ"] != "JWT" {
		t.Fatalf("header: %v", header)
	}
	claims := servertest.DecodeSegment(t, tok, 1)
	if got := strings.Join(servertest.KeysOf(claims), ","); got != "acl,application_id,exp,iat,jti,sub" {
		t.Fatalf("claims are %s", got)
	}
	if claims["exp"].(float64)-claims["iat"].(float64) != 900 {
		t.Fatalf("exp-iat = %v", claims["exp"].(float64)-claims["iat"].(float64))
	}
	if !uuidV4.MatchString(claims["jti"].(string)) {
		t.Fatalf("jti %v is not a UUID v4", claims["jti"])
	}
	if claims["sub"] != "new-user" || claims["application_id"] != s.AppID {
		t.Fatalf("claims: %v", claims)
	}
	paths := claims["acl"].(map[string]any)["paths"].(map[string]any)
	want := []string{"/*/applications/**", "/*/conversations/**", "/*/devices/**", "/*/image/**", "/*/knocking/**", "/*/legs/**", "/*/media/**", "/*/push/**", "/*/rtc/**", "/*/sessions/**", "/*/users/**"}
	if got := servertest.KeysOf(paths); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("acl paths = %v", got)
	}

	// The token verifies with the key JWKS publishes.
	set := s.Do(http.MethodGet, "/.well-known/jwks.json", "", nil).JSON(t)
	jwk := set["keys"].([]any)[0].(map[string]any)
	if jwk["kid"] != header["kid"] {
		t.Fatalf("kid %v not in JWKS %v", header["kid"], jwk)
	}
	n, _ := base64.RawURLEncoding.DecodeString(jwk["n"].(string))
	e, _ := base64.RawURLEncoding.DecodeString(jwk["e"].(string))
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"RS256"})); err != nil {
		t.Fatalf("token does not verify with the JWKS key: %v", err)
	}

	// Vonage (the emulator) accepts it for the user's own resource.
	if r := s.EmulatorDo(http.MethodGet, "/v1/users/"+vid, tok); r.Status != http.StatusOK {
		t.Fatalf("emulator GET own user: %d %s", r.Status, r.Body)
	}
	if got := s.Em.Users(s.AppID); len(got) != 1 || got[0].Name != "new-user" || got[0].Properties["custom_data"].(map[string]any)["sdkauth_user_id"] != user["id"] {
		t.Fatalf("emulator users: %+v", got)
	}

	// /v1/me takes the same token as its bearer credential.
	me := s.Do(http.MethodGet, "/v1/me", "", nil, "Authorization", "Bearer "+tok)
	if me.Status != http.StatusOK || me.JSON(t)["id"] != user["id"] {
		t.Fatalf("/v1/me: %d %s", me.Status, me.Body)
	}
}

func TestEmulatorEnforcesTokensAsVonageWould(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.Signup("new-user", "correct horse battery")
	// A token narrowed to conversations is refused on users: 403.
	r := s.PostJSON("/v1/token", map[string]any{
		"grant_type": "password", "username": "new-user", "password": "correct horse battery",
		"acl": map[string]any{"paths": map[string]any{"/*/conversations/**": map[string]any{}}},
	})
	if r.Status != http.StatusOK {
		t.Fatalf("narrowed token: %d %s", r.Status, r.Body)
	}
	narrowed := r.JSON(t)["access_token"].(string)
	if got := s.EmulatorDo(http.MethodGet, "/v1/users", narrowed); got.Status != http.StatusForbidden {
		t.Fatalf("outside the ACL: %d %s", got.Status, got.Body)
	}

	other := testkit.Key(t, 1)
	acl := keys.DefaultACL()
	mint := func(k *rsa.PrivateKey, now time.Time, ttl time.Duration) string {
		m := &keys.Minter{ApplicationID: s.AppID, Signer: keys.NewGoSigner(k), Now: func() time.Time { return now }}
		tok, _, err := m.UserToken("new-user", acl, min(ttl, keys.MaxTTL))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tooLong := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"application_id": s.AppID, "iat": time.Now().Unix(), "exp": time.Now().Add(25 * time.Hour).Unix(),
		"jti": "0b4a8a7e-3c61-4f4e-9d1b-2a6f7f1c0e11", "sub": "new-user", "acl": acl,
	})
	tooLongTok, _ := tooLong.SignedString(s.Key)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
		"application_id": s.AppID, "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
		"jti": "0b4a8a7e-3c61-4f4e-9d1b-2a6f7f1c0e12", "sub": "new-user", "acl": acl,
	}).SignedString(jwt.UnsafeAllowNoneSignatureType)

	for name, tok := range map[string]string{
		"signed by another key":  mint(other, time.Now(), time.Hour),
		"expired":                mint(s.Key, time.Now().Add(-2*time.Hour), time.Hour),
		"living longer than 24h": tooLongTok,
		"alg none":               none,
	} {
		if got := s.EmulatorDo(http.MethodGet, "/v1/users", tok); got.Status != http.StatusUnauthorized {
			t.Errorf("%s: emulator answered %d %s", name, got.Status, got.Body)
		}
	}
	if got := s.EmulatorDo(http.MethodGet, "/v1/users", mint(s.Key, time.Now(), time.Hour)); got.Status != http.StatusOK {
		t.Errorf("a good token: emulator answered %d %s", got.Status, got.Body)
	}
}

func TestSignupRefusesBadInputWithoutWriting(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.Signup("taken-name", "correct horse battery")
	users, sessions := s.Count("users"), s.Count("sessions")
	cases := []struct {
		name, body, field, code string
		status                  int
	}{
		{"malformed body", `{"username":`, "body", "validation_failed", 400},
		{"not an object", `[1,2]`, "body", "validation_failed", 400},
		{"missing username", `{"password":"correct horse battery"}`, "username", "validation_failed", 400},
		{"missing password", `{"username":"another-user"}`, "password", "validation_failed", 400},
		{"short password", `{"username":"another-user","password":"short"}`, "password", "validation_failed", 400},
		{"wrong type", `{"username":42,"password":"correct horse battery"}`, "username", "validation_failed", 400},
		{"bad username", `{"username":"a b","password":"correct horse battery"}`, "username", "validation_failed", 400},
		{"bad image url", `{"username":"another-user","password":"correct horse battery","image_url":"javascript:alert(1)"}`, "image_url", "validation_failed", 400},
		{"taken username", `{"username":"taken-name","password":"correct horse battery"}`, "username", "username_taken", 409},
		{"taken in another case", `{"username":"TAKEN-name","password":"correct horse battery"}`, "username", "username_taken", 409},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.PostJSON("/v1/signup", tc.body)
			if r.Status != tc.status || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %s %s", r.Status, r.Header.Get("Content-Type"), r.Body)
			}
			p := r.JSON(t)
			if p["code"] != tc.code {
				t.Fatalf("code %v", p["code"])
			}
			params, _ := p["invalid_parameters"].([]any)
			if len(params) == 0 || params[0].(map[string]any)["name"] != tc.field {
				t.Fatalf("invalid_parameters %v, want %s named", params, tc.field)
			}
			if strings.Contains(string(r.Body), "correct horse battery") {
				t.Fatal("the password is echoed in the error body")
			}
		})
	}
	if s.Count("users") != users || s.Count("sessions") != sessions || s.Count("provisioning_jobs") != 0 {
		t.Fatal("a refused sign-up wrote something")
	}
	if n := len(s.Em.Users(s.AppID)); n != 1 {
		t.Fatalf("emulator has %d users, want 1", n)
	}
}
