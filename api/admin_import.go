package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
)

// importPath is the one route that takes large bodies.
const (
	importPath     = "/v1/admin/users/import"
	maxImportBytes = 16 << 20
)

// importResult is the outcome of one line of an import.
type importResult struct {
	Line     int      `json:"line"`
	Username string   `json:"username,omitempty"`
	Status   string   `json:"status"` // created, exists or failed
	UserID   string   `json:"user_id,omitempty"`
	Error    *problem `json:"error,omitempty"`
}

// adminImportUsers creates users from a JSON-lines body, one user per line
// as for POST /v1/admin/users. It is idempotent by username (an existing
// user is reported, not changed) and a bad line does not stop the others.
func (h *handlers) adminImportUsers(c *gin.Context) {
	ct := c.ContentType()
	if ct != "application/x-ndjson" && ct != "application/jsonl" && ct != "application/json-seq" {
		fail(c, sdkauth.Invalid(sdkauth.FieldError{Name: "Content-Type", Reason: "must be application/x-ndjson (one JSON user per line)"}))
		return
	}
	sc := bufio.NewScanner(c.Request.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	var results []importResult
	counts := map[string]int{"created": 0, "exists": 0, "failed": 0}
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		res := h.importLine(c, line, raw)
		counts[res.Status]++
		results = append(results, res)
	}
	if err := sc.Err(); err != nil {
		var tooBig *http.MaxBytesError
		reason := "could not be read: a line is longer than 64 KiB"
		if errors.As(err, &tooBig) {
			reason = "is larger than 16 MiB; split the import"
		}
		fail(c, sdkauth.Invalid(sdkauth.FieldError{Name: "body", Reason: reason}))
		return
	}
	h.Audit.Record(c.Request.Context(), auth.Event{
		Type:   auth.EventUsersImported,
		Detail: fmt.Sprintf("created=%d existing=%d failed=%d", counts["created"], counts["exists"], counts["failed"]),
	})
	writeJSON(c, http.StatusOK, "application/json", gin.H{
		"results": results, "created": counts["created"], "existing": counts["exists"], "failed": counts["failed"],
	})
}

func (h *handlers) importLine(c *gin.Context, line int, raw []byte) importResult {
	res := importResult{Line: line, Status: "failed"}
	var req adminCreateUserRequest
	err := json.Unmarshal(raw, &req)
	if err != nil {
		err = jsonError(err)
	} else {
		res.Username = req.Username
		err = validate(&req)
	}
	if err == nil && req.Password == "" && req.PasswordHash == "" {
		err = sdkauth.Invalid(sdkauth.FieldError{Name: "password", Reason: "is required (or password_hash)"})
	}
	if err == nil && req.Policy != "" {
		err = h.Policies.CheckExists(c.Request.Context(), "policy", req.Policy)
	}
	if err == nil {
		u, cerr := h.Users.Create(c.Request.Context(), req.input())
		if cerr == nil {
			res.Status, res.UserID = "created", u.ID.String()
			return res
		}
		err = cerr
	}
	if sdkauth.ErrorCode(err) == sdkauth.CodeUsernameTaken {
		if u, gerr := h.Users.GetByUsername(c.Request.Context(), strings.TrimSpace(req.Username)); gerr == nil {
			res.Status, res.UserID = "exists", u.ID.String()
			return res
		}
	}
	var e *sdkauth.Error
	if !errors.As(err, &e) {
		slog.ErrorContext(c.Request.Context(), "import line failed", "request_id", requestID(c), "line", line, "err", err)
		e = &sdkauth.Error{Code: sdkauth.CodeInternal, Message: "Something went wrong on our side."}
	}
	p := newProblem(e)
	res.Error = &p
	return res
}
