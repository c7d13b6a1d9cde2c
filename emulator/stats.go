package emulator

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// statsCounter counts platform API requests by "METHOD PATH STATUS".
type statsCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

// add counts one answered request.
func (s *statsCounter) add(method, path string, status int) {
	key := method + " " + normalizePath(path) + " " + strconv.Itoa(status)
	s.mu.Lock()
	s.counts[key]++
	s.mu.Unlock()
}

// snapshot copies the counts.
func (s *statsCounter) snapshot() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.counts)
}

// reset forgets every count.
func (s *statsCounter) reset() {
	s.mu.Lock()
	clear(s.counts)
	s.mu.Unlock()
}

// normalizePath replaces resource ids in a versioned API path by "{id}": in
// /vN/collection/id/sub-collection/id… every second segment after the version is
// an id. Other paths are returned unchanged.
func normalizePath(path string) string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) < 3 || len(segs[0]) < 2 || segs[0][0] != 'v' || segs[0][1] < '0' || segs[0][1] > '9' {
		return path
	}
	for i := 2; i < len(segs); i += 2 {
		if segs[i] != "" {
			segs[i] = "{id}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// Stats returns request counts keyed "METHOD PATH STATUS", with resource ids in
// PATH replaced by {id} (for example "POST /v1/users 201" or
// "GET /v1/users/{id} 200"). Requests to /_emulator/ are not counted; answers
// produced by injected faults are.
func (e *Emulator) Stats() map[string]int {
	return e.stats.snapshot()
}

// ResetStats forgets every request count.
func (e *Emulator) ResetStats() {
	e.stats.reset()
}

// serveStats answers GET (the counts as a JSON object) and DELETE (reset) on
// /_emulator/stats.
func (e *Emulator) serveStats(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, e.Stats())
	case http.MethodDelete:
		e.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, "GET, DELETE")
	}
}
