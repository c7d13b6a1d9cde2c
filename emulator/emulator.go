package emulator

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxBodyBytes bounds every request body the emulator reads.
const maxBodyBytes = 1 << 20

// Config configures an Emulator.
type Config struct {
	// APIKey and APISecret are the HTTP Basic credentials the Applications API v2 accepts.
	APIKey, APISecret string
	// Logger receives request and fault logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock used for token checks and timestamps; nil means time.Now.
	Now func() time.Time
}

// Emulator is an in-memory Vonage platform. It implements http.Handler and is safe
// for concurrent use.
type Emulator struct {
	apiKey, apiSecret string
	log               *slog.Logger
	now               func() time.Time

	mu     sync.Mutex // guards apps and appSeq
	apps   map[string]*application
	appSeq uint64

	stats  statsCounter
	faults faultSet

	// table is the platform's endpoints, built once by New.
	table []route
	// rtc holds the Client SDK sessions connected over /v2/rtc.
	rtc rtcHub
}

// New returns an empty emulator configured by cfg.
func New(cfg Config) *Emulator {
	e := &Emulator{
		apiKey:    cfg.APIKey,
		apiSecret: cfg.APISecret,
		log:       cfg.Logger,
		now:       cfg.Now,
		apps:      make(map[string]*application),
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.stats.counts = make(map[string]int)
	e.faults.release = make(chan struct{})
	e.table = e.routes()
	e.rtc.init()
	return e
}

// ServeHTTP serves the Applications API v2 under /v2/applications, the Users API v1
// under /v1/users and the emulator's own control endpoints under /_emulator/.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Server SDKs join their host and path verbatim, so a host configured with
	// a trailing slash asks for //v1/…: repeated slashes are read as one.
	for strings.Contains(r.URL.Path, "//") {
		r.URL.Path = strings.ReplaceAll(r.URL.Path, "//", "/")
		r.URL.RawPath = ""
	}
	if r.URL.Path == "/_emulator" || strings.HasPrefix(r.URL.Path, "/_emulator/") {
		e.serveControl(w, r)
		return
	}
	if allowCORS(w, r) {
		return
	}
	sw := &statusWriter{ResponseWriter: w, record: func(status int) {
		e.stats.add(r.Method, r.URL.Path, status)
	}}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(sw, r.Body, maxBodyBytes)
	}
	start := time.Now()
	defer func() {
		e.log.Debug("emulator request", "method", r.Method, "path", r.URL.Path,
			"status", sw.status, "duration", time.Since(start))
	}()
	if strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasPrefix(r.URL.Path, "/v2/") || strings.HasPrefix(r.URL.Path, "/v0.3/") {
		if e.applyFault(sw, r) {
			return
		}
	}
	if r.URL.Path == rtcPath || strings.HasPrefix(r.URL.Path, rtcPath+"/") {
		e.serveRTC(sw, r)
		return
	}
	e.route(sw, r)
	if sw.status == 0 {
		sw.WriteHeader(http.StatusOK)
	}
}

// allowCORS lets browser apps (the Client SDK in a web page) call the
// platform from any origin, as Vonage's API does; it answers preflight
// requests itself and reports whether it did.
func allowCORS(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// methodNotAllowed answers 405 with the Allow header listing the supported methods.
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeProblem(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "Method not allowed.",
		"Request method not supported; use one of "+allow+".")
}

// baseURL is the absolute scheme://host the client used to reach the emulator,
// honouring X-Forwarded-Proto set by a proxy in front of it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		if i := strings.IndexByte(p, ','); i >= 0 {
			p = p[:i]
		}
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			scheme = p
		}
	}
	return scheme + "://" + r.Host
}

// statusWriter records the response status in the statistics the moment the
// header is written, so a client that has its answer always sees it counted.
type statusWriter struct {
	http.ResponseWriter
	status   int
	recorded bool
	record   func(status int)
}

// WriteHeader counts the status (once) and forwards it.
func (sw *statusWriter) WriteHeader(status int) {
	if sw.status != 0 {
		return
	}
	sw.status = status
	if !sw.recorded {
		sw.recorded = true
		sw.record(status)
	}
	sw.ResponseWriter.WriteHeader(status)
}

// Write sends an implicit 200 header first, like net/http does.
func (sw *statusWriter) Write(b []byte) (int, error) {
	if sw.status == 0 {
		sw.WriteHeader(http.StatusOK)
	}
	return sw.ResponseWriter.Write(b)
}

// recordNow counts status immediately without writing anything, for answers
// (such as a hanging request) that may never reach the client.
func (sw *statusWriter) recordNow(status int) {
	if !sw.recorded {
		sw.recorded = true
		sw.record(status)
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (sw *statusWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }
