package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/google/uuid"
)

// problemTypeBase prefixes the "type" member of Users API errors; the error code
// follows the fragment marker, as in Vonage's own problem documents.
const problemTypeBase = "https://developer.nexmo.com/api-errors/conversation#"

// Users API error codes, as the platform (and its Client SDKs) name them.
const (
	codeValidation       = "http:error:validation-fail"
	codeInvalidToken     = "system:error:invalid-token"
	codePermission       = "system:error:permission"
	codeUserNotFound     = "user:error:not-found"
	codeDuplicateName    = "user:error:duplicate-name"
	codeRouteNotFound    = "http:error:not-found"
	codeMethodNotAllowed = "http:error:method-not-allowed"
	codeTooManyRequests  = "http:error:too-many-request"
	codeInternal         = "system:error:internal-error"
	codeTimeout          = "system:error:timeout"
)

// invalidParameter names one rejected input and says why, in Vonage's shape.
type invalidParameter struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// problem is Vonage's error document. Code is empty for Applications API errors,
// which the platform answers without one.
type problem struct {
	Type              string             `json:"type"`
	Title             string             `json:"title"`
	Detail            string             `json:"detail"`
	Instance          string             `json:"instance"`
	Code              string             `json:"code,omitempty"`
	InvalidParameters []invalidParameter `json:"invalid_parameters,omitempty"`
}

// writeJSON encodes v as the body of a response with the given status and the
// application/json content type that Vonage's SDKs expect.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false) // keep "&" in hrefs readable
	if err := enc.Encode(v); err != nil {
		http.Error(w, "emulator: cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body.Bytes())
}

// writeProblem writes a Users API style problem with the given status and code.
func writeProblem(w http.ResponseWriter, status int, code, title, detail string, params ...invalidParameter) {
	writeJSON(w, status, problem{
		Type:              problemTypeBase + code,
		Title:             title,
		Detail:            detail,
		Instance:          uuid.NewString(),
		Code:              code,
		InvalidParameters: params,
	})
}

// writeValidation answers 400 naming every rejected parameter.
func writeValidation(w http.ResponseWriter, params ...invalidParameter) {
	writeProblem(w, http.StatusBadRequest, codeValidation, "Bad request.", "Input validation failure.", params...)
}

// writeAppProblem writes an Applications API v2 problem, which carries no code.
func writeAppProblem(w http.ResponseWriter, status int, typ, title, detail string, params ...invalidParameter) {
	writeJSON(w, status, problem{
		Type:              "https://developer.nexmo.com/api-errors" + typ,
		Title:             title,
		Detail:            detail,
		Instance:          uuid.NewString(),
		InvalidParameters: params,
	})
}
