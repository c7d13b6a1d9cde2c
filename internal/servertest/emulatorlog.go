package servertest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"time"
)

// EmulatorRequest is one request the emulator answered.
type EmulatorRequest struct {
	Method, Path string
	// Name is the user name a POST /v1/users asked for.
	Name     string
	Status   int
	Arrived  time.Time
	Answered time.Time
}

// RequestLog wraps the emulator and records when each request arrived and
// was answered, so tests can prove how retries were spaced.
type RequestLog struct {
	next http.Handler
	mu   sync.Mutex
	reqs []EmulatorRequest
}

// NewRequestLog records the requests next answers.
func NewRequestLog(next http.Handler) *RequestLog { return &RequestLog{next: next} }

func (l *RequestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := EmulatorRequest{Method: r.Method, Path: r.URL.Path, Arrived: time.Now()}
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
func (l *RequestLog) Requests(method, path string) []EmulatorRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []EmulatorRequest
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
