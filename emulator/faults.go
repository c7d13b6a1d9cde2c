package emulator

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// hangLimit bounds how long a hang fault (Status -1) holds a request.
const hangLimit = 60 * time.Second

// Fault describes a failure to inject into matching /v1/ and /v2/ requests.
type Fault struct {
	// Path is a prefix of the request path; empty matches every path.
	Path string `json:"path"`
	// Method is the request method to match (case-insensitive); empty matches all.
	Method string `json:"method"`
	// Status is the HTTP status to answer (400–599); 0 lets the request through
	// after DelayMS (a slow success); -1 hangs the request until the client gives
	// up, the faults are replaced or cleared, or 60 s pass (then 504).
	Status int `json:"status"`
	// Rate is the probability (0..1) that a matching request is hit; 0 means 1.
	Rate float64 `json:"rate"`
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int `json:"retry_after"`
	// DelayMS delays the answer (or the pass-through) by this many milliseconds.
	DelayMS int `json:"delay_ms"`
	// Count is how many times the fault fires before it is removed; 0 means
	// until cleared. Listings report the remaining count.
	Count int `json:"count"`
}

// Validate reports why f cannot be injected, or nil when it can.
func (f Fault) Validate() error {
	var errs []error
	if f.Path != "" && !strings.HasPrefix(f.Path, "/") {
		errs = append(errs, fmt.Errorf("path %q must start with /", f.Path))
	}
	for _, c := range f.Method {
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			errs = append(errs, fmt.Errorf("method %q is not an HTTP method", f.Method))
			break
		}
	}
	switch {
	case f.Status == -1, f.Status == 0, f.Status >= 400 && f.Status <= 599:
	default:
		errs = append(errs, fmt.Errorf("status %d must be -1 (hang), 0 (delay only) or 400-599", f.Status))
	}
	if f.Status == 0 && f.DelayMS == 0 {
		errs = append(errs, errors.New("a fault with status 0 needs delay_ms"))
	}
	if f.Rate < 0 || f.Rate > 1 {
		errs = append(errs, fmt.Errorf("rate %v must be between 0 and 1", f.Rate))
	}
	if f.RetryAfter < 0 {
		errs = append(errs, errors.New("retry_after must not be negative"))
	}
	if f.DelayMS < 0 || f.DelayMS > int(hangLimit/time.Millisecond) {
		errs = append(errs, fmt.Errorf("delay_ms must be between 0 and %d", hangLimit/time.Millisecond))
	}
	if f.Count < 0 {
		errs = append(errs, errors.New("count must not be negative"))
	}
	return errors.Join(errs...)
}

// activeFault is an installed fault with its firing history.
type activeFault struct {
	Fault
	fired int
}

// faultSet holds the installed faults. Closing release frees requests held by
// hang faults; it is replaced whenever the faults are replaced or cleared.
type faultSet struct {
	mu      sync.Mutex
	list    []*activeFault
	release chan struct{}
}

// SetFaults replaces the installed faults with f, releasing requests held by
// earlier hang faults. Faults that fail Validate are logged and skipped.
func (e *Emulator) SetFaults(f []Fault) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.resetFaultsLocked()
	e.addFaultsLocked(f)
}

// ClearFaults removes every fault and releases requests held by hang faults.
func (e *Emulator) ClearFaults() {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.resetFaultsLocked()
}

// Faults lists the installed faults in matching order, Count being the number
// of firings left (0 = unlimited).
func (e *Emulator) Faults() []Fault {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	out := make([]Fault, len(e.faults.list))
	for i, af := range e.faults.list {
		out[i] = af.Fault
	}
	return out
}

// addFaults appends f to the installed faults.
func (e *Emulator) addFaults(f []Fault) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.addFaultsLocked(f)
}

// resetFaultsLocked removes every fault and releases held requests; the caller
// holds e.faults.mu.
func (e *Emulator) resetFaultsLocked() {
	e.faults.list = nil
	close(e.faults.release)
	e.faults.release = make(chan struct{})
}

// addFaultsLocked appends the valid faults of f; the caller holds e.faults.mu.
func (e *Emulator) addFaultsLocked(f []Fault) {
	for _, flt := range f {
		if err := flt.Validate(); err != nil {
			e.log.Warn("emulator: ignoring invalid fault", "fault", flt, "error", err)
			continue
		}
		flt.Method = strings.ToUpper(flt.Method)
		e.faults.list = append(e.faults.list, &activeFault{Fault: flt})
	}
}

// pickFault returns the first installed fault that matches the request and
// fires (by its rate), consuming one of its counts.
func (e *Emulator) pickFault(method, path string) (Fault, <-chan struct{}, bool) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	for i, af := range e.faults.list {
		if af.Method != "" && af.Method != method || !strings.HasPrefix(path, af.Path) {
			continue
		}
		if af.Rate > 0 && af.Rate < 1 && rand.Float64() >= af.Rate {
			continue
		}
		af.fired++
		fired := af.Fault
		if af.Count > 0 {
			af.Count--
			if af.Count == 0 {
				e.faults.list = append(e.faults.list[:i:i], e.faults.list[i+1:]...)
			}
		}
		return fired, e.faults.release, true
	}
	return Fault{}, nil, false
}

// applyFault injects the first matching fault into the request. It reports
// whether the request has been answered (or abandoned) and must go no further.
func (e *Emulator) applyFault(sw *statusWriter, r *http.Request) bool {
	f, release, ok := e.pickFault(r.Method, r.URL.Path)
	if !ok {
		return false
	}
	e.log.Info("emulator: injecting fault", "method", r.Method, "path", r.URL.Path,
		"status", f.Status, "delay_ms", f.DelayMS)
	ctx := r.Context()
	if f.Status == -1 {
		// Counted now: the client usually gives up before any answer is written.
		sw.recordNow(http.StatusGatewayTimeout)
		timer := time.NewTimer(hangLimit)
		defer timer.Stop()
		select {
		case <-ctx.Done():
		case <-release:
			writeProblem(sw, http.StatusGatewayTimeout, codeTimeout, "Gateway Timeout.", "Injected hang released.")
		case <-timer.C:
			writeProblem(sw, http.StatusGatewayTimeout, codeTimeout, "Gateway Timeout.", "Injected hang timed out.")
		}
		return true
	}
	if f.DelayMS > 0 {
		timer := time.NewTimer(time.Duration(f.DelayMS) * time.Millisecond)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			// 499: the client closed the request before the delayed answer.
			sw.recordNow(499)
			return true
		case <-timer.C:
		}
	}
	if f.Status == 0 {
		return false
	}
	if f.RetryAfter > 0 {
		sw.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	code, title := codeInternal, http.StatusText(f.Status)+"."
	if f.Status == http.StatusTooManyRequests {
		code = codeTooManyRequests
	}
	writeProblem(sw, f.Status, code, title, "Injected fault.")
	return true
}
