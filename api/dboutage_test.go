package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/pgtemp"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/internal/testkit"
)

// TestPostgresOutageUnderLoadIsServiceUnavailable stops Postgres (as a crash
// or failover does) while refreshes and client-credentials requests run, and
// starts it again: no answer is a 500; every failure is 503 with Retry-After
// and, on the token endpoint, the OAuth error temporarily_unavailable in an
// application/json body; every session refreshes after the outage; and no
// admin JWT was handed out without its audit row.
func TestPostgresOutageUnderLoadIsServiceUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// Durable, as production is: a fast cluster (synchronous_commit off) may
	// lose commits it already acknowledged when it stops at once.
	cluster, err := pgtemp.Start(ctx, pgtemp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Stop)
	pool, err := db.Open(ctx, cluster.URL)
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.NewMigrator(pool)
	if err == nil {
		_, err = m.Up(ctx)
	}
	pool.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, map[string]string{"DATABASE_URL": cluster.URL, "SDKAUTH_LOGIN_RATE_PER_IP": "0"})
	clientID, secret := s.NewClient("tokens:admin")

	const refreshers, minters = 8, 4
	refreshTokens := make([]string, refreshers)
	var first map[string]any
	for i := range refreshTokens {
		first = s.Signup(fmt.Sprintf("outage-user-%d", i), "correct horse battery")
		refreshTokens[i] = first["refresh_token"].(string)
	}

	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		bad      []string
		jtis     []string
		ok503    atomic.Int64
	)
	check := func(what string, res *http.Response, body []byte) bool {
		mu.Lock()
		defer mu.Unlock()
		statuses[res.StatusCode]++
		switch res.StatusCode {
		case http.StatusOK:
			return true
		case http.StatusServiceUnavailable:
			ok503.Add(1)
			var p map[string]any
			_ = json.Unmarshal(body, &p)
			if res.Header.Get("Retry-After") == "" || p["error"] != "temporarily_unavailable" ||
				!strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				bad = append(bad, fmt.Sprintf("%s: 503 without Retry-After, temporarily_unavailable or application/json: %s %s", what, res.Header, body))
			}
		default:
			bad = append(bad, fmt.Sprintf("%s: %d %s", what, res.StatusCode, body))
		}
		if len(bad) > 10 {
			bad = bad[:10]
		}
		return false
	}
	post := func(form url.Values, header ...string) (*http.Response, []byte) {
		req, _ := http.NewRequest("POST", s.URL+"/v1/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return &http.Response{StatusCode: 0, Header: http.Header{}}, nil
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, body
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	// load runs one client until stop: request, and on success use the
	// answer; after a failure wait a little, as a client honouring
	// Retry-After would (faster).
	load := func(what string, request func() (*http.Response, []byte), use func(tok map[string]any)) {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, body := request()
				if !check(what, res, body) {
					select { // the client's back-off, not a wait of the test's
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					continue
				}
				var tok map[string]any
				_ = json.Unmarshal(body, &tok)
				use(tok)
			}
		})
	}
	for i := range refreshers {
		load("refresh", func() (*http.Response, []byte) {
			return post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshTokens[i]}})
		}, func(tok map[string]any) { refreshTokens[i] = tok["refresh_token"].(string) })
	}
	for range minters {
		load("client_credentials", func() (*http.Response, []byte) {
			return post(url.Values{"grant_type": {"client_credentials"}}, "Authorization", servertest.Basic(clientID, secret))
		}, func(tok map[string]any) {
			jti := jtiOf(t, tok["access_token"].(string))
			mu.Lock()
			jtis = append(jtis, jti)
			mu.Unlock()
		})
	}

	testkit.WaitFor(t, 30*time.Second, "load before the outage", func() bool { return statusCount(&mu, statuses, http.StatusOK) >= 20 })
	if err := cluster.Halt(ctx); err != nil {
		t.Fatal(err)
	}
	halted := time.Now()
	testkit.WaitFor(t, 30*time.Second, "503s during the outage", func() bool { return ok503.Load() >= 20 && time.Since(halted) > time.Second })
	// The rest of the API answers the outage as problem+json.
	for _, r := range []response{
		s.Do("GET", "/v1/me", "", nil, bearer(first)...),
		s.Do("GET", "/v1/admin/users", "", nil, "Authorization", servertest.Basic(clientID, secret)),
	} {
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" ||
			r.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(r.Body), `"code":"unavailable"`) {
			t.Errorf("during the outage: %d %v %s", r.Status, r.Header, r.Body)
		}
	}
	if err := cluster.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	before := statusCount(&mu, statuses, http.StatusOK)
	testkit.WaitFor(t, 30*time.Second, "answers after Postgres returns", func() bool {
		return statusCount(&mu, statuses, http.StatusOK) > before+20
	})
	t.Logf("requests recovered %s after Postgres accepted connections again", time.Since(resumed).Round(time.Millisecond))
	close(stop)
	wg.Wait()

	mu.Lock()
	t.Logf("answers: %v", statuses)
	for _, b := range bad {
		t.Error(b)
	}
	mu.Unlock()
	// Every session made before the outage still refreshes.
	for i, tok := range refreshTokens {
		if r := s.refresh(tok); r.Status != http.StatusOK {
			t.Errorf("session %d after the outage: %d %s", i, r.Status, r.Body)
		}
	}
	// No admin JWT went out without its audit row.
	stored := map[string]bool{}
	for _, ev := range s.Audit("admin_token_issued") {
		stored[strings.TrimPrefix(ev.Detail, "jti=")] = true
	}
	for _, jti := range jtis {
		if !stored[jti] {
			t.Errorf("admin JWT %s was issued without its audit row", jti)
		}
	}
	if len(jtis) == 0 {
		t.Error("no admin JWT was issued at all")
	}
}

func statusCount(mu *sync.Mutex, statuses map[int]int, status int) int {
	mu.Lock()
	defer mu.Unlock()
	return statuses[status]
}

// jtiOf reads the jti claim of a JWT.
func jtiOf(t *testing.T, token string) string {
	jti, _ := servertest.DecodeSegment(t, token, 1)["jti"].(string)
	return jti
}
