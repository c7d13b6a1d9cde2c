package emulator_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/emulator"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

// control sends a request to /_emulator/ with a raw JSON body.
func (e *env) control(method, path, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	return send(e.t, req)
}

func TestFault503WithCount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.control("POST", "/_emulator/faults", `{"path":"/v1/users","method":"post","status":503,"count":2}`).want(t, 200)
	listed := e.control("GET", "/_emulator/faults", "").want(t, 200)
	if !strings.Contains(string(listed.raw), `"count":2`) || !strings.Contains(string(listed.raw), `"method":"POST"`) {
		t.Errorf("listed faults %s", listed.raw)
	}
	for range 2 {
		e.do("POST", "/v1/users", e.admin(), map[string]any{"name": "f"}).
			wantProblem(t, http.StatusServiceUnavailable, "system:error:internal-error")
	}
	// Other methods are untouched, and after two firings the fault is gone.
	e.do("GET", "/v1/users", e.admin(), nil).want(t, http.StatusOK)
	e.do("POST", "/v1/users", e.admin(), map[string]any{"name": "f"}).want(t, http.StatusCreated)
	if f := e.em.Faults(); len(f) != 0 {
		t.Errorf("exhausted fault still installed: %+v", f)
	}
	stats := e.em.Stats()
	if stats["POST /v1/users 503"] != 2 || stats["POST /v1/users 201"] != 1 || stats["GET /v1/users 200"] != 1 {
		t.Errorf("stats = %v", stats)
	}
	if len(e.em.Users(e.appID)) != 1 {
		t.Error("a faulted request reached the store")
	}
}

func TestFault429WithRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.em.SetFaults([]emulator.Fault{{Path: "/v1/", Status: 429, RetryAfter: 7}})
	r := e.do("GET", "/v1/users", e.admin(), nil).wantProblem(t, http.StatusTooManyRequests, "http:error:too-many-request")
	if r.header.Get("Retry-After") != "7" {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	// Faults never apply to the control endpoints, and ClearFaults lifts them.
	e.control("GET", "/_emulator/stats", "").want(t, 200)
	e.em.ClearFaults()
	e.do("GET", "/v1/users", e.admin(), nil).want(t, http.StatusOK)
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.control("PUT", "/_emulator/faults", `[{"path":"/v1/users","status":0,"delay_ms":250}]`).want(t, 200)
	start := time.Now()
	e.do("POST", "/v1/users", e.admin(), map[string]any{"name": "slow"}).want(t, http.StatusCreated)
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("answered after %v, want at least 250ms", d)
	}
	if e.em.Stats()["POST /v1/users 201"] != 1 {
		t.Errorf("stats = %v", e.em.Stats())
	}
}

func TestFaultHang(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.em.SetFaults([]emulator.Fault{{Path: "/v1/users", Status: -1}})

	// The client gives up: its timeout is the simulated platform timeout.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v1/users", nil)
	req.Header.Set("Authorization", "Bearer "+e.admin())
	start := time.Now()
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a client timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hang returned after %v", d)
	}
	// The server may handle the abandoned request a moment after the
	// client gave up.
	testkit.WaitFor(t, 5*time.Second, "the hang to be counted once", func() bool { return e.em.Stats()["GET /v1/users 504"] == 1 })

	// Clearing the faults releases a held request with 504.
	held := e.em.Stats()["GET /v1/users 504"]
	done := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest("GET", e.srv.URL+"/v1/users", nil)
		req.Header.Set("Authorization", "Bearer "+e.admin())
		done <- send(t, req)
	}()
	// A hang is counted when it starts holding the request.
	testkit.WaitFor(t, 5*time.Second, "the second request to be held", func() bool { return e.em.Stats()["GET /v1/users 504"] == held+1 })
	e.control("DELETE", "/_emulator/faults", "").want(t, http.StatusNoContent)
	select {
	case r := <-done:
		r.wantProblem(t, http.StatusGatewayTimeout, "system:error:timeout")
	case <-time.After(5 * time.Second):
		t.Fatal("held request not released by clearing the faults")
	}
}

func TestFaultRate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.em.SetFaults([]emulator.Fault{{Path: "/v1/users", Status: 500, Rate: 0.5}})
	token := e.admin()
	for range 100 {
		e.do("GET", "/v1/users", token, nil)
	}
	stats := e.em.Stats()
	if stats["GET /v1/users 500"] < 15 || stats["GET /v1/users 200"] < 15 {
		t.Errorf("rate 0.5 gave %v", stats)
	}
}

func TestFaultValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, body := range []string{
		`{"status":200}`,
		`{"status":0}`,
		`{"status":503,"rate":2}`,
		`{"status":503,"count":-1}`,
		`{"status":503,"path":"v1/users"}`,
		`{"status":503,"retryAfter":5}`,
		`not json`,
	} {
		e.control("POST", "/_emulator/faults", body).wantProblem(t, http.StatusBadRequest, "http:error:validation-fail")
	}
	if f := e.em.Faults(); len(f) != 0 {
		t.Errorf("invalid faults installed: %+v", f)
	}
	// SetFaults skips invalid faults instead of failing.
	e.em.SetFaults([]emulator.Fault{{Status: 200}, {Status: 502}})
	if f := e.em.Faults(); len(f) != 1 || f[0].Status != 502 {
		t.Errorf("Faults() = %+v", f)
	}
	// POST appends, PUT replaces.
	e.control("POST", "/_emulator/faults", `[{"status":503},{"status":504}]`).want(t, 200)
	if n := len(e.em.Faults()); n != 3 {
		t.Errorf("%d faults after POST, want 3", n)
	}
	e.control("PUT", "/_emulator/faults", `{"status":503}`).want(t, 200)
	if n := len(e.em.Faults()); n != 1 {
		t.Errorf("%d faults after PUT, want 1", n)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.createUser("s")
	e.do("GET", "/v1/users/"+id, e.admin(), nil).want(t, 200)
	e.do("GET", "/v1/users/USR-nope", e.admin(), nil).want(t, 404)
	e.do("PATCH", "/v1/users/"+id, e.admin(), map[string]any{"display_name": "S"}).want(t, 200)
	e.do("GET", "/v1/users", "", nil).want(t, 401)
	e.basic("GET", "/v2/applications/"+e.appID, nil).want(t, 200)
	e.do("DELETE", "/v1/users/"+id, e.admin(), nil).want(t, 204)

	r := e.control("GET", "/_emulator/stats", "").want(t, 200)
	if r.header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type = %q", r.header.Get("Content-Type"))
	}
	want := map[string]float64{
		"POST /v1/users 201":            1,
		"GET /v1/users/{id} 200":        1,
		"GET /v1/users/{id} 404":        1,
		"PATCH /v1/users/{id} 200":      1,
		"GET /v1/users 401":             1,
		"GET /v2/applications/{id} 200": 1,
		"DELETE /v1/users/{id} 204":     1,
	}
	if len(r.body) != len(want) {
		t.Errorf("stats = %v, want %v", r.body, want)
	}
	for k, v := range want {
		if r.body[k] != v {
			t.Errorf("stats[%q] = %v, want %v", k, r.body[k], v)
		}
	}
	e.control("DELETE", "/_emulator/stats", "").want(t, http.StatusNoContent)
	if s := e.em.Stats(); len(s) != 0 {
		t.Errorf("stats after reset = %v", s)
	}
	e.control("GET", "/_emulator/nothing", "").want(t, 404)
}
