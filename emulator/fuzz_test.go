package emulator_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

// fuzzTarget is one emulator endpoint the fuzzer drives.
type fuzzTarget struct{ method, path string }

// FuzzEmulatorInput sends fuzzed bodies and query strings to every endpoint
// of the emulator that reads input: whatever arrives, the answer is a 2xx or a
// 4xx in Vonage's shape (JSON, with a code), never a 5xx or a panic.
func FuzzEmulatorInput(f *testing.F) {
	var once sync.Once
	var em *emulator.Emulator
	var admin string
	var targets []fuzzTarget
	setup := func(t testing.TB) {
		em = emulator.New(emulator.Config{APIKey: testAPIKey, APISecret: testAPISecret})
		key := testkit.Key(t, 0)
		appID, err := em.AddApplication("fuzz", publicPEM(t, key))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().Unix()
		admin, _ = jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
			"application_id": appID, "iat": now, "exp": now + 86400, "jti": uuid.NewString()}).SignedString(key)
		call := func(method, path string, body any) map[string]any {
			b, _ := json.Marshal(body)
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(method, path, bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+admin)
			em.ServeHTTP(rec, req)
			var out map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			return out
		}
		uid, _ := call("POST", "/v1/users", map[string]any{"name": "new-user"})["id"].(string)
		cid, _ := call("POST", "/v1/conversations", map[string]any{"name": "c"})["id"].(string)
		mid, _ := call("POST", "/v1/conversations/"+cid+"/members", map[string]any{"state": "joined", "user": map[string]any{"name": "new-user"}})["id"].(string)
		for _, v := range []string{"v0.3", "v1"} {
			conv := "/" + v + "/conversations/" + cid
			targets = append(targets,
				fuzzTarget{"POST", "/" + v + "/conversations"}, fuzzTarget{"GET", "/" + v + "/conversations"},
				fuzzTarget{"PUT", conv}, fuzzTarget{"PATCH", conv},
				fuzzTarget{"POST", conv + "/members"}, fuzzTarget{"GET", conv + "/members"},
				fuzzTarget{"PATCH", conv + "/members/" + mid}, fuzzTarget{"POST", conv + "/events"},
				fuzzTarget{"GET", conv + "/events"}, fuzzTarget{"GET", "/" + v + "/users/" + uid + "/conversations"},
				fuzzTarget{"GET", "/" + v + "/users/" + uid + "/sessions"})
		}
		targets = append(targets, fuzzTarget{"POST", "/v1/users"}, fuzzTarget{"GET", "/v1/users"}, fuzzTarget{"PATCH", "/v1/users/" + uid})
	}
	for _, seed := range []struct {
		target uint8
		body   string
		query  string
	}{
		{0, `{"name":"n","display_name":"d","image_url":"https://example.com/x.png","properties":{"ttl":60,"custom_data":{"a":1}}}`, ""},
		{1, ``, "page_size=2&order=DESC&cursor=eyJkIjoibmV4dCIsInMiOjEsIm8iOiJkZXNjIn0="},
		{4, `{"state":"invited","user":{"name":"new-user"},"channel":{"type":"app"}}`, ""},
		{6, `{"state":"left"}`, ""},
		{7, `{"type":"message","from":"MEM-x","body":{"message_type":"text","text":"hi"}}`, ""},
		{8, ``, "start_id=1&end_id=99999999999999999999&event_type=member:*&filter_group_type=ChatEvents"},
		{2, `{"properties":{"custom_data":[]},"numbers":"x"}`, ""},
		{22, `{"name":"","properties":{"custom_data":1}}`, ""},
		{23, ``, "name=%ff&cursor=%%"},
	} {
		f.Add(seed.target, []byte(seed.body), seed.query)
	}
	f.Fuzz(func(t *testing.T, target uint8, body []byte, query string) {
		once.Do(func() { setup(t) })
		tg := targets[int(target)%len(targets)]
		path := tg.path
		if query != "" {
			path += "?" + query
		}
		req, err := http.NewRequest(tg.method, "http://emulator"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		rec := httptest.NewRecorder()
		em.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", tg.method, path, body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusNoContent {
			return
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%s %s: %d answered %q (%s)", tg.method, path, rec.Code, rec.Body, rec.Header().Get("Content-Type"))
		}
		if rec.Code >= 400 && out["code"] == nil {
			t.Fatalf("%s %s: %d without a code: %s", tg.method, path, rec.Code, rec.Body)
		}
	})
}
