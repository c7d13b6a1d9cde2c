package vonage

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// appJSON is the reference's application, plus members this package does
// not model (at the top level and inside capabilities) that an update must
// carry back.
const appJSON = `{
  "id": "78d335fa-323d-0114-9c3d-d6f0d48968cf",
  "name": "My Application",
  "capabilities": {
    "voice": {"webhooks": {"answer_url": {"address": "https://example.com/webhooks/answer", "http_method": "POST", "connection_timeout": 500, "socket_timeout": 3000}},
              "signed_callbacks": false, "conversations_ttl": 12, "leg_persistence_time": 10, "region": "eu-west"},
    "rtc": {"webhooks": {"event_url": {"address": "https://example.com/webhooks/event", "http_method": "POST"}}, "signed_callbacks": false,
            "future_rtc_option": {"x": [1, 2]}},
    "vbc": {}
  },
  "privacy": {"improve_ai": true},
  "keys": {"public_key": "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"},
  "future_top_level": {"kept": true},
  "_links": {"self": {"href": "https://api.nexmo.com/v2/applications/78d335fa-323d-0114-9c3d-d6f0d48968cf"}}
}`

func appServer(t *testing.T) *fake {
	return newFake(t, func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != testKey || pass != testSecret {
			writeProblem(w, http.StatusUnauthorized, `{"title":"Unauthorized"}`)
			return
		}
		const path = "/v2/applications/78d335fa-323d-0114-9c3d-d6f0d48968cf"
		switch {
		case r.Method == http.MethodGet && r.URL.Path == path:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(appJSON))
		case r.Method == http.MethodPut && r.URL.Path == path:
			// Echo the update back, as Vonage answers with the application.
			var m map[string]any
			_ = json.NewDecoder(r.Body).Decode(&m)
			m["id"] = "78d335fa-323d-0114-9c3d-d6f0d48968cf"
			writeJSON(w, http.StatusOK, m)
		case r.Method == http.MethodPost && r.URL.Path == "/v2/applications":
			writeJSON(w, http.StatusCreated, map[string]any{"id": "new-app", "name": "Demo Application",
				"keys": map[string]any{"public_key": "PUB", "private_key": "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----\n"}})
		case r.Method == http.MethodDelete && r.URL.Path == path:
			w.WriteHeader(http.StatusNoContent)
		default:
			writeProblem(w, http.StatusNotFound, `{"type":"https://developer.nexmo.com/api-errors#not-found","title":"Not Found","detail":"Id 'x' does not exist"}`)
		}
	})
}

func TestApplicationRoundTrip(t *testing.T) {
	t.Parallel()
	f := appServer(t)
	c := f.client()
	ctx := context.Background()

	app, err := c.GetApplication(ctx, "78d335fa-323d-0114-9c3d-d6f0d48968cf")
	if err != nil {
		t.Fatal(err)
	}
	r := f.last(t)
	if r.Header.Get("Authorization") == "Bearer "+testToken || !strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
		t.Fatalf("Authorization = %q, want Basic", r.Header.Get("Authorization"))
	}
	if app.ID != "78d335fa-323d-0114-9c3d-d6f0d48968cf" || app.Name != "My Application" || !strings.Contains(app.Keys.PublicKey, "BEGIN PUBLIC KEY") {
		t.Fatalf("app = %+v", app)
	}
	if app.Privacy["improve_ai"] != true {
		t.Fatalf("privacy = %v", app.Privacy)
	}
	if _, ok := app.Extra["_links"]; ok {
		t.Fatal("_links kept in Extra")
	}

	app.Keys.PublicKey = "NEW PUBLIC KEY"
	app.Keys.PrivateKey = "MUST NOT BE SENT"
	updated, err := c.UpdateApplication(ctx, app.ID, app)
	if err != nil {
		t.Fatal(err)
	}
	put := f.last(t)
	if put.Method != http.MethodPut || put.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("sent %s with Content-Type %q", put.Method, put.Header.Get("Content-Type"))
	}
	body := decodeBody(t, put)
	var original map[string]any
	if err := json.Unmarshal([]byte(appJSON), &original); err != nil {
		t.Fatal(err)
	}
	delete(original, "id")
	delete(original, "_links")
	original["keys"] = map[string]any{"public_key": "NEW PUBLIC KEY"}
	if !reflect.DeepEqual(body, original) {
		t.Fatalf("PUT body lost or added members:\n got %v\nwant %v", body, original)
	}
	if updated.Keys.PublicKey != "NEW PUBLIC KEY" || string(updated.Extra["future_top_level"]) != `{"kept":true}` {
		t.Fatalf("updated = %+v", updated)
	}

	if err := c.DeleteApplication(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetApplication(ctx, "nope"); !IsNotFound(err) {
		t.Fatalf("unknown application: err = %v, want not found", err)
	}
}

func TestCreateApplicationReturnsPrivateKey(t *testing.T) {
	t.Parallel()
	f := appServer(t)
	app, err := f.client().CreateApplication(context.Background(), Application{
		ID:           "ignored",
		Name:         "Demo Application",
		Capabilities: map[string]any{"rtc": map[string]any{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if app.ID != "new-app" || !strings.Contains(app.Keys.PrivateKey, "BEGIN PRIVATE KEY") {
		t.Fatalf("created = %+v", app)
	}
	got := decodeBody(t, f.last(t))
	want := map[string]any{"name": "Demo Application", "capabilities": map[string]any{"rtc": map[string]any{}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("POST body = %v, want %v (no id, no empty keys)", got, want)
	}
}

func TestApplicationsNeedBasicAuth(t *testing.T) {
	t.Parallel()
	f := appServer(t)
	c := New(f.URL, func() (string, error) { return testToken, nil })
	_, err := c.GetApplication(context.Background(), "78d335fa-323d-0114-9c3d-d6f0d48968cf")
	if !errors.Is(err, errNoCredentials) {
		t.Fatalf("err = %v, want errNoCredentials", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("server saw %d requests, want none", n)
	}
	wrong := New(f.URL, nil, WithBasicAuth(testKey, "wrong"))
	_, err = wrong.GetApplication(context.Background(), "78d335fa-323d-0114-9c3d-d6f0d48968cf")
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("err = %v, want a 401 that does not echo the secret", err)
	}
}

func TestApplicationJSON(t *testing.T) {
	t.Parallel()
	var a Application
	if err := json.Unmarshal([]byte(appJSON), &a); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	_ = json.Unmarshal(b, &got)
	_ = json.Unmarshal([]byte(appJSON), &want)
	delete(want, "_links")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %s\nwant %s", b, appJSON)
	}
	if err := json.Unmarshal([]byte(`{"name": 5}`), &a); err == nil {
		t.Fatal("a numeric name decoded without error")
	}
}
