package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/internal/jwttest"
	"github.com/sdkauth/sdkauth/internal/servertest"
)

func TestJWTCommandMintsAndInspects(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	s.Signup("new-user", "correct horse battery")

	out, err := s.run("jwt", "--sub", "new-user", "--ttl", "3600")
	if err != nil {
		t.Fatalf("jwt: %v: %s", err, out)
	}
	tok := strings.TrimSpace(out)
	if strings.Count(tok, "\n") != 0 || strings.Count(tok, ".") != 2 {
		t.Fatalf("jwt printed more than a token: %q", out)
	}
	claims := servertest.DecodeSegment(t, tok, 1)
	if claims["exp"].(float64)-claims["iat"].(float64) != 3600 || claims["sub"] != "new-user" {
		t.Fatalf("claims %v", claims)
	}
	if r := s.EmulatorDo(http.MethodGet, "/v1/users", tok); r.Status != http.StatusOK {
		t.Fatalf("emulator refused the minted token: %d %s", r.Status, r.Body)
	}
	if out, err := s.run("jwt", "inspect", tok); err != nil || !strings.Contains(out, "the token is valid") || !strings.Contains(out, "verifies with the key") {
		t.Fatalf("inspect: %v: %s", err, out)
	}

	admin, err := s.run("jwt", "--exp", "0", "--ttl", "60s")
	if err != nil || strings.Contains(strings.Join(servertest.KeysOf(servertest.DecodeSegment(t, strings.TrimSpace(admin), 1)), ","), "sub") {
		t.Fatalf("admin jwt: %v: %s", err, admin)
	}

	refused := []struct {
		args []string
		want string
	}{
		{[]string{"jwt", "--sub", "new-user", "--acl", `{"paths":{"/*/users/**":{"verbs":["GET"]}}}`}, "verbs"},
		{[]string{"jwt", "--sub", "new-user", "--acl", `{"paths":{"users":{}}}`}, "users"},
		{[]string{"jwt", "--ttl", "90000"}, "86400"},
		{[]string{"jwt", "--ttl", "10"}, "30 s"},
		{[]string{"jwt", "--exp", "1000"}, "not in the future"},
		{[]string{"jwt", "--exp", "99999999999"}, "24 h"},
	}
	for _, tc := range refused {
		out, err := s.run(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v (%q), want an error naming %q", tc.args, err, out, tc.want)
		}
	}
}

func TestJWTInspectSaysWhatIsWrong(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	// An expired token minted 48 h ago with a 1 h lifetime, by our own key.
	out, err := s.run("jwt", "--sub", "new-user", "--ttl", "3600")
	if err != nil {
		t.Fatal(err)
	}
	good := strings.TrimSpace(out)
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	if out, err := s.run("jwt", "inspect", tampered); err == nil || !strings.Contains(out, "FAIL signature") {
		t.Fatalf("tampered: %v: %s", err, out)
	}
	// A crit header or a repeated member, on a token otherwise good and
	// signed by our key, is named as sdkauth's reason to refuse it.
	now := time.Now().Unix()
	claims := fmt.Sprintf(`{"application_id":%q,"iat":%d,"exp":%d,"jti":"0b4a8a7e-3c61-4f4e-9d1b-2a6f7f1c0e31","sub":"new-user","acl":{"paths":{"/*/users/**":{}}}}`, s.AppID, now, now+600)
	for header, want := range map[string]string{
		`{"alg":"RS256","typ":"JWT","crit":["unknown-ext"],"unknown-ext":true}`: "crit lists",
		`{"alg":"RS256","typ":"JWT","typ":"JWT"}`:                               `member "typ" appears twice`,
	} {
		out, err := s.run("jwt", "inspect", jwttest.SignRS256(t, s.Key, header, claims))
		if err == nil || !strings.Contains(out, "FAIL strict JSON") || !strings.Contains(out, want) || !strings.Contains(out, "ok   signature") {
			t.Fatalf("%s: %v: %s", header, err, out)
		}
	}
	if _, err := s.run("jwt", "inspect", "not-a-jwt"); err == nil || !strings.Contains(err.Error(), "three") {
		t.Fatalf("garbage: %v", err)
	}
}
