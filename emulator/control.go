package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// faultView is a fault as GET /_emulator/faults lists it: Count is what is left,
// Fired how often it has hit so far.
type faultView struct {
	Fault
	Fired int `json:"fired"`
}

// serveControl serves the unauthenticated /_emulator/ endpoints, which are never
// counted in the statistics nor subject to faults.
func (e *Emulator) serveControl(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_emulator/faults":
		e.serveFaults(w, r)
	case "/_emulator/stats":
		e.serveStats(w, r)
	default:
		writeProblem(w, http.StatusNotFound, codeRouteNotFound, "Not found.",
			"Control endpoints are /_emulator/faults and /_emulator/stats.")
	}
}

// serveFaults lists (GET), appends (POST), replaces (PUT) or clears (DELETE) the
// injected faults. POST and PUT take one Fault object or an array of them.
func (e *Emulator) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		e.writeFaults(w)
	case http.MethodPost, http.MethodPut:
		faults, ok := decodeFaults(w, r)
		if !ok {
			return
		}
		if r.Method == http.MethodPut {
			e.SetFaults(faults)
		} else {
			e.addFaults(faults)
		}
		e.writeFaults(w)
	case http.MethodDelete:
		e.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		methodNotAllowed(w, "GET, POST, PUT, DELETE")
	}
}

// writeFaults answers with the installed faults.
func (e *Emulator) writeFaults(w http.ResponseWriter) {
	e.faults.mu.Lock()
	views := make([]faultView, len(e.faults.list))
	for i, af := range e.faults.list {
		views[i] = faultView{Fault: af.Fault, Fired: af.fired}
	}
	e.faults.mu.Unlock()
	writeJSON(w, http.StatusOK, views)
}

// decodeFaults reads one Fault or an array of them, strictly (unknown fields are
// refused so that a misspelt member is not silently ignored), and validates each.
func decodeFaults(w http.ResponseWriter, r *http.Request) ([]Fault, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err != nil {
		writeValidation(w, invalidParameter{Name: "body", Reason: "cannot read body: " + err.Error()})
		return nil, false
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' {
		body = append(append([]byte{'['}, body...), ']')
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var faults []Fault
	if err := dec.Decode(&faults); err != nil {
		writeValidation(w, invalidParameter{Name: "body", Reason: "expected a fault object or an array of them: " + err.Error()})
		return nil, false
	}
	var params []invalidParameter
	for i, f := range faults {
		if err := f.Validate(); err != nil {
			params = append(params, invalidParameter{Name: "faults[" + strconv.Itoa(i) + "]", Reason: err.Error()})
		}
	}
	if len(params) > 0 {
		writeValidation(w, params...)
		return nil, false
	}
	return faults, true
}
