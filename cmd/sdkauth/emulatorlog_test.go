package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// emulatorRequest is one request the emulator answered.
type emulatorRequest struct {
	Method, Path string
	// Name is the user name a POST /v1/users asked for.
	Name     string
	Status   int
	Arrived  time.Time
	Answered time.Time
}

// requestLog wraps the emulator and records when each request arrived and
// was answered, so tests can prove how retries were spaced.
type requestLog struct {
	next http.Handler
	mu   sync.Mutex
	reqs []emulatorRequest
}

func newRequestLog(next http.Handler) *requestLog { return &requestLog{next: next} }

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := emulatorRequest{Method: r.Method, Path: r.URL.Path, Arrived: time.Now()}
	if r.Method == http.MethodPost && r.URL.Path == "/v1/users" {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		var u struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(body, &u)
		rec.Name = u.Name
	}
	sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	l.next.ServeHTTP(sw, r)
	rec.Status, rec.Answered = sw.status, time.Now()
	l.mu.Lock()
	l.reqs = append(l.reqs, rec)
	l.mu.Unlock()
}

// Requests returns the requests recorded so far matching method and path.
func (l *requestLog) Requests(method, path string) []emulatorRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []emulatorRequest
	for _, r := range l.reqs {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets the emulator's WebSocket upgrade reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
