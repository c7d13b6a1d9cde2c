package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tokenServer answers /v1/token as sdkauth does, with a refresh token that
// counts the requests, and records the connections it saw.
type tokenServer struct {
	*httptest.Server
	n     atomic.Int64
	mu    sync.Mutex
	conns map[string]bool
}

func newTokenServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int64) bool) *tokenServer {
	ts := &tokenServer{conns: map[string]bool{}}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.conns[r.RemoteAddr] = true
		ts.mu.Unlock()
		n := ts.n.Add(1)
		if h != nil && h(w, r, n) {
			return
		}
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/token" ||
			r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
			r.ContentLength != int64(len(body)) || !strings.HasPrefix(string(body), "grant_type=") {
			http.Error(w, fmt.Sprintf("bad request %s %s %q %q", r.Method, r.URL, r.Header, body), http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"eyJ.a.b","token_type":"Bearer","expires_in":900,"refresh_token":"r%d"}`, n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) connCount() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return len(ts.conns)
}

func newTestCaller(t *testing.T, base, basic string) *tokenCaller {
	tc := newTokenCaller(&api{base: base}, basic)
	t.Cleanup(func() {
		if tc.raw != nil {
			tc.raw.close()
		}
	})
	return tc
}

func TestRawKeepAlive(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil)
	tc := newTestCaller(t, ts.URL, "")
	ctx := context.Background()
	for i := 1; i <= 200; i++ {
		refresh, err := tc.post(ctx, "grant_type=refresh_token&refresh_token=", "x")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if want := fmt.Sprintf("r%d", i); refresh != want {
			t.Fatalf("request %d: refresh %q, want %q", i, refresh, want)
		}
	}
	if n := ts.connCount(); n != 1 {
		t.Fatalf("200 requests used %d connections, want 1", n)
	}
}

func TestRawAuthorization(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if got := r.Header.Get("Authorization"); got != "Basic YTpi" {
			http.Error(w, "Authorization "+got, http.StatusUnauthorized)
			return true
		}
		if got := r.Header.Get("User-Agent"); got != "Go-http-client/1.1" {
			http.Error(w, "User-Agent "+got, http.StatusBadRequest)
			return true
		}
		return false
	})
	tc := newTestCaller(t, ts.URL, "Basic YTpi")
	if _, err := tc.post(context.Background(), "grant_type=client_credentials"); err != nil {
		t.Fatal(err)
	}
}

func TestRawChunked(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, n int64) bool {
		// Flushing before the end makes net/http answer chunked.
		io.WriteString(w, `{"access_token":"eyJ.a.b",`)
		w.(http.Flusher).Flush()
		fmt.Fprintf(w, `"refresh_token":"c%d"}`, n)
		return true
	})
	tc := newTestCaller(t, ts.URL, "")
	for i := 1; i <= 3; i++ {
		refresh, err := tc.post(context.Background(), "grant_type=x")
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("c%d", i); refresh != want {
			t.Fatalf("refresh %q, want %q", refresh, want)
		}
	}
	if n := ts.connCount(); n != 1 {
		t.Fatalf("3 chunked answers used %d connections, want 1", n)
	}
}

func TestRawProblem(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, n int64) bool {
		if n%2 == 0 {
			return false
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"type":"about:blank","title":"Bad Request","status":400,"code":"invalid_grant"}`)
		return true
	})
	tc := newTestCaller(t, ts.URL, "")
	for i := 1; i <= 4; i++ {
		_, err := tc.post(context.Background(), "grant_type=x")
		if i%2 == 0 {
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			continue
		}
		var se *statusError
		if !errors.As(err, &se) || se.status != 400 || se.code != "invalid_grant" {
			t.Fatalf("request %d: got %v, want a 400 invalid_grant statusError", i, err)
		}
		if got := errorKind(err); got != "400 invalid_grant" {
			t.Fatalf("errorKind = %q", got)
		}
	}
	if n := ts.connCount(); n != 1 {
		t.Fatalf("answers used %d connections, want 1", n)
	}
}

func TestRawConnectionClose(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, n int64) bool {
		if n%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		return false
	})
	tc := newTestCaller(t, ts.URL, "")
	for i := 1; i <= 9; i++ {
		if _, err := tc.post(context.Background(), "grant_type=x"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if n := ts.connCount(); n != 3 {
		t.Fatalf("9 requests, every third closing, used %d connections, want 3", n)
	}
}

// The server closing an idle connection without saying so is noticed only
// when the next request is answered by the end of the connection; that
// request goes again on a new connection.
func TestRawServerClosesIdle(t *testing.T) {
	t.Parallel()
	ts := newTokenServer(t, nil)
	tc := newTestCaller(t, ts.URL, "")
	for i := 1; i <= 3; i++ {
		if _, err := tc.post(context.Background(), "grant_type=x"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		ts.CloseClientConnections()
	}
	if n := ts.connCount(); n != 3 {
		t.Fatalf("used %d connections, want 3", n)
	}
}

func TestRawCancelUnblocks(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, n int64) bool {
		if n == 2 {
			<-release // hangs until the test ends
		}
		return false
	})
	defer close(release)
	tc := newTestCaller(t, ts.URL, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := tc.post(ctx, "grant_type=x"); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := tc.post(ctx, "grant_type=x")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancellation took %s", d)
	}
	// A new context works on a new connection.
	if _, err := tc.post(context.Background(), "grant_type=x"); err != nil {
		t.Fatalf("after cancellation: %v", err)
	}
}

func TestRawDeadline(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	ts := newTokenServer(t, func(w http.ResponseWriter, r *http.Request, n int64) bool {
		<-release
		return false
	})
	defer close(release)
	tc := newTestCaller(t, ts.URL, "")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := tc.post(ctx, "grant_type=x")
	if got := errorKind(err); got != "timeout" {
		t.Fatalf("got %v (kind %q), want a timeout", err, got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the deadline took %s", d)
	}
}

// cannedServer answers every request on a connection with the next of
// answers, raw, after reading the request's header and body. It allocates
// nothing per request, so that TestRawAllocs counts the client's alone.
func cannedServer(t testing.TB, answers ...string) string {
	raw := make([][]byte, len(answers))
	for i, a := range answers {
		raw[i] = []byte(a)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for i := 0; ; i++ {
					length := 0
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(trimSpace(line)) == 0 {
							break
						}
						if bytes.HasPrefix(line, []byte("Content-Length: ")) {
							length, _ = parseLength(trimSpace(line[16:]), 10)
						}
					}
					if _, err := br.Discard(length); err != nil {
						return
					}
					if _, err := conn.Write(raw[i%len(raw)]); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestRawParse(t *testing.T) {
	t.Parallel()
	const body = `{"access_token":"eyJ.a.b","refresh_token":"r1"}`
	cl := fmt.Sprint(len(body))
	for _, tc := range []struct {
		name, answer string
		status       int
		closes       bool
	}{
		{"content-length, odd case", "HTTP/1.1 200 OK\r\ncontent-LENGTH:  " + cl + " \r\nX: y\r\n\r\n" + body, 200, false},
		{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			fmt.Sprintf("%x;ext=1\r\n%s\r\n%X\r\n%s", 26, body[:26], len(body)-26, body[26:]) + "\r\n0\r\nX-Trailer: 1\r\n\r\n", 200, false},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: " + cl + "\r\n\r\n" + body, 200, true},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: " + cl + "\r\n\r\n" + body, 200, true},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: " + cl + "\r\n\r\n" + body, 200, false},
		{"status", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: " + cl + "\r\n\r\n" + body, 503, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newRawClient(cannedServer(t, tc.answer) + "/v1/token")
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			for range 3 {
				status, b, err := c.post(context.Background(), "grant_type=x")
				if err != nil {
					t.Fatal(err)
				}
				if status != tc.status || string(b) != body {
					t.Fatalf("got %d %q, want %d %q", status, b, tc.status, body)
				}
				if closed := c.conn == nil; closed != tc.closes {
					t.Fatalf("connection closed: %v, want %v", closed, tc.closes)
				}
			}
		})
	}
}

func TestRawMalformed(t *testing.T) {
	t.Parallel()
	for name, answer := range map[string]string{
		"status line":   "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
		"length":        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"chunk size":    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"header line":   "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"not HTTP":      "SSH-2.0-OpenSSH\r\n\r\n",
		"huge body":     "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n",
		"informational": "HTTP/1.1 100 Continue\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := newRawClient(cannedServer(t, answer) + "/v1/token")
			if err != nil {
				t.Fatal(err)
			}
			defer c.close()
			if status, b, err := c.post(context.Background(), "grant_type=x"); err == nil {
				t.Fatalf("got %d %q, want an error", status, b)
			}
			if c.conn != nil {
				t.Fatal("connection kept after an error")
			}
		})
	}
}

// The hot path allocates only the refresh token it returns.
func TestRawAllocs(t *testing.T) {
	// Not parallel: testing.AllocsPerRun refuses to run beside other tests.
	const answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 47\r\n\r\n" +
		`{"access_token":"eyJ.a.b","refresh_token":"r1"}`
	tc := newTestCaller(t, cannedServer(t, answer), "Basic YTpi")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tok := "r0"
	call := func() {
		next, err := tc.post(ctx, "grant_type=refresh_token&refresh_token=", tok)
		if err != nil {
			t.Fatal(err)
		}
		tok = next
	}
	call()
	if n := testing.AllocsPerRun(2000, call); n > 1 {
		t.Fatalf("%v allocations per request, want at most 1", n)
	}
}

func BenchmarkRawPost(b *testing.B) {
	const answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 47\r\n\r\n" +
		`{"access_token":"eyJ.a.b","refresh_token":"r1"}`
	srv := cannedServer(b, answer)
	tc := newTokenCaller(&api{base: srv}, "")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tc.post(ctx, "grant_type=refresh_token&refresh_token=", "r1"); err != nil {
			b.Fatal(err)
		}
	}
	tc.raw.close()
}
