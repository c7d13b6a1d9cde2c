package vonage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestErrorResponses(t *testing.T) {
	t.Parallel()
	// An HTTP date has whole seconds: round up, so that the date is never
	// more than a second from two minutes on, however the clock falls.
	retryAt := time.Now().Add(2 * time.Minute).Truncate(time.Second).Add(time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		code      string // HasCode must be true for this code
		notFound  bool
		retryable bool
		retry     time.Duration // expected RetryAfter, ±1 s
		detail    string
		params    int
	}{
		{name: "duplicate name, 409", status: 409, code: CodeDuplicateName, detail: "User already exists",
			body: `{"title":"Conflict","type":"https://developer.nexmo.com/api-errors/users#duplicate-name","code":"user:error:duplicate-name","detail":"User already exists","instance":"abc"}`},
		{name: "duplicate name, 400", status: 400, code: CodeDuplicateName,
			body: `{"title":"Bad request.","code":"user:error:duplicate-name","detail":"User already exists"}`},
		{name: "duplicate name only in the type", status: 400, code: CodeDuplicateName,
			body: `{"title":"Bad request.","type":"https://developer.nexmo.com/api-errors/conversation#user:error:duplicate-name"}`},
		{name: "not found", status: 404, notFound: true, code: "user:error:not-found",
			body: `{"title":"Not found.","code":"user:error:not-found","detail":"User does not exist"}`},
		{name: "validation", status: 400, params: 2,
			body: `{"title":"Bad request.","code":"http:error:validation-fail","invalid_parameters":[{"name":"name","reason":"required"},{"name":"ttl","reason":"too big"}]}`},
		{name: "429 with delay seconds", status: 429, retryable: true, retry: 7 * time.Second,
			header: map[string]string{"Retry-After": "7"}, body: `{"title":"Too Many Requests"}`},
		{name: "429 with HTTP date", status: 429, retryable: true, retry: 2 * time.Minute,
			header: map[string]string{"Retry-After": retryAt}, body: `{"title":"Too Many Requests"}`},
		{name: "503 retryable", status: 503, retryable: true, retry: 30 * time.Second,
			header: map[string]string{"Retry-After": "30"}, body: `{"title":"Service Unavailable"}`},
		{name: "500 HTML body", status: 500, retryable: true, detail: "<html> <body>Internal Server Error</body> </html>",
			header: map[string]string{"Content-Type": "text/html"}, body: "<html>\n  <body>Internal Server Error</body>\n</html>\n"},
		{name: "502 empty body", status: 502, retryable: true},
		{name: "401 plain text", status: 401, detail: "invalid token", header: map[string]string{"Content-Type": "text/plain"}, body: "invalid token"},
		{name: "JSON array body", status: 400, detail: `["weird"]`, body: `["weird"]`},
		{name: "huge text body is cut", status: 500, retryable: true, detail: strings.Repeat("x", maxSnippet) + "…", body: strings.Repeat("x", 5000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				if w.Header().Get("Content-Type") == "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			_, err := f.client().CreateUser(context.Background(), User{Name: "new-user"})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if e.Status != tt.status || e.Method != http.MethodPost || e.Path != "/v1/users" {
				t.Fatalf("Error = %+v", e)
			}
			if tt.code != "" && !HasCode(err, tt.code) {
				t.Errorf("HasCode(%q) = false; Error = %+v", tt.code, e)
			}
			if HasCode(err, "user:error:something-else") {
				t.Error("HasCode is true for another code")
			}
			if IsNotFound(err) != tt.notFound {
				t.Errorf("IsNotFound = %v", !tt.notFound)
			}
			if IsRetryable(err) != tt.retryable {
				t.Errorf("IsRetryable = %v", !tt.retryable)
			}
			if d := e.RetryAfter - tt.retry; d < -time.Second || d > time.Second {
				t.Errorf("RetryAfter = %v, want %v", e.RetryAfter, tt.retry)
			}
			if tt.detail != "" && e.Detail != tt.detail {
				t.Errorf("Detail = %q, want %q", e.Detail, tt.detail)
			}
			if len(e.InvalidParameters) != tt.params {
				t.Errorf("InvalidParameters = %v", e.InvalidParameters)
			}
			if e.Title == "" {
				t.Error("Title is empty")
			}
			if msg := err.Error(); strings.Contains(msg, testToken) || strings.Contains(msg, testSecret) {
				t.Errorf("error message leaks a credential: %s", msg)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	e := &Error{Status: 400, Code: "http:error:validation-fail", Title: "Bad request.", Detail: "Invalid Content",
		InvalidParameters: []InvalidParameter{{Name: "name", Reason: "required"}}, RetryAfter: 2 * time.Second,
		Method: "POST", Path: "/v1/users"}
	want := "vonage: POST /v1/users: 400 http:error:validation-fail: Bad request. (Invalid Content) invalid parameters: name: required; retry after 2s"
	if got := e.Error(); got != want {
		t.Fatalf("Error() =\n%s\nwant\n%s", got, want)
	}
	wrapped := fmt.Errorf("provisioning: %w", e)
	if !HasCode(wrapped, "http:error:validation-fail") || HasCode(wrapped, "") {
		t.Fatal("HasCode does not see through wrapping, or matches the empty code")
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"120", 2 * time.Minute},
		{" 3 ", 3 * time.Second},
		{"99999999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"Mon, 02 Jan 2025 03:05:05 GMT", time.Minute},
		{"soon", 0},
		{"1.5", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"429", &Error{Status: 429}, true},
		{"500", &Error{Status: 500}, true},
		{"503 wrapped", fmt.Errorf("x: %w", &Error{Status: 503}), true},
		{"400", &Error{Status: 400}, false},
		{"404", &Error{Status: 404}, false},
		{"409", &Error{Status: 409}, false},
		{"transport", &transportError{op: "GET /", err: io.ErrUnexpectedEOF}, true},
		{"deadline", &transportError{op: "GET /", err: context.DeadlineExceeded}, true},
		{"cancelled", &transportError{op: "GET /", err: context.Canceled}, false},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := IsRetryable(tt.err); got != tt.want {
			t.Errorf("%s: IsRetryable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTransportFailures(t *testing.T) {
	t.Parallel()
	t.Run("connection refused", func(t *testing.T) {
		f := newFake(t, func(http.ResponseWriter, *http.Request) {})
		c := f.client()
		f.Close()
		_, err := c.GetUser(context.Background(), "USR-1")
		if err == nil || !IsRetryable(err) {
			t.Fatalf("err = %v, want a retryable error", err)
		}
		if strings.Contains(err.Error(), testToken) {
			t.Fatalf("error leaks the token: %v", err)
		}
	})
	t.Run("context deadline", func(t *testing.T) {
		release := make(chan struct{})
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := f.client().GetUser(ctx, "USR-1")
		if !errors.Is(err, context.DeadlineExceeded) || !IsRetryable(err) {
			t.Fatalf("err = %v, want a retryable deadline error", err)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{}) })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := f.client().GetUser(ctx, "USR-1")
		if !errors.Is(err, context.Canceled) || IsRetryable(err) {
			t.Fatalf("err = %v, want a non-retryable cancellation", err)
		}
	})
	t.Run("token source fails", func(t *testing.T) {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{}) })
		boom := errors.New("no signing key")
		c := New(f.URL, func() (string, error) { return "", boom })
		_, err := c.CreateUser(context.Background(), User{Name: "a"})
		if !errors.Is(err, boom) || IsRetryable(err) {
			t.Fatalf("err = %v, want the TokenSource error, not retryable", err)
		}
		if n := len(f.requests()); n != 0 {
			t.Fatalf("server saw %d requests, want none", n)
		}
	})
	t.Run("oversized body", func(t *testing.T) {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"name":"`+strings.Repeat("a", maxBody)+`"}`)
		})
		_, err := f.client().GetUser(context.Background(), "USR-1")
		if err == nil || !strings.Contains(err.Error(), "exceeds") {
			t.Fatalf("err = %v, want a size error", err)
		}
	})
	t.Run("malformed success body", func(t *testing.T) {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"name":`)
		})
		_, err := f.client().GetUser(context.Background(), "USR-1")
		if err == nil || IsRetryable(err) {
			t.Fatalf("err = %v, want a non-retryable decoding error", err)
		}
	})
	t.Run("bad base URL", func(t *testing.T) {
		c := New("api.nexmo.com", func() (string, error) { return testToken, nil })
		if _, err := c.GetUser(context.Background(), "USR-1"); err == nil || !strings.Contains(err.Error(), "not http(s)") {
			t.Fatalf("err = %v, want a base URL error", err)
		}
	})
}
