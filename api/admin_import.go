package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/users"
)

// The import is the one route with large bodies and long work, so it has
// its own bounds in place of the server-wide ones (MaxBodyBytes, and the
// server's ReadTimeout and WriteTimeout, which suit small requests).
const (
	importPath = "/v1/admin/users/import"
	// maxImportBytes and maxImportLines bound one import, and so its
	// results; a larger file is split.
	maxImportBytes = 16 << 20
	maxImportLines = 100_000
	// maxImportLineBytes bounds one line: the longest valid user is about
	// 3.5 KiB (a 1,024-byte password and a 2,048-byte image URL).
	maxImportLineBytes = 16 << 10
	// importReadTimeout is how long the body may take to arrive, and
	// importWorkTimeout how long the import may take once it has.
	importReadTimeout = 2 * time.Minute
	importWorkTimeout = 5 * time.Minute
)

// importResult is the outcome of one line of an import.
type importResult struct {
	Line     int      `json:"line"`
	Username string   `json:"username,omitempty"`
	Status   string   `json:"status"` // created, exists or failed
	UserID   string   `json:"user_id,omitempty"`
	Error    *problem `json:"error,omitempty"`
}

// importResponse answers an import: a result for every non-blank line that
// arrived, in line order, and why the body did not arrive whole if it did not.
type importResponse struct {
	Complete  bool           `json:"complete"`
	BodyError *problem       `json:"body_error,omitempty"`
	Created   int            `json:"created"`
	Existing  int            `json:"existing"`
	Failed    int            `json:"failed"`
	Results   []importResult `json:"results"`
}

// adminImportUsers creates users from a JSON-lines body, one user per line
// as for POST /v1/admin/users (see users.Service.Import). The whole body is
// read first, within the import's own deadline; then every line that
// arrived is imported, even when the body was cut or the client has gone,
// so that what happened is what the results say, and sending the same file
// again completes it.
func (h *handlers) adminImportUsers(c *gin.Context) error {
	ct := c.ContentType()
	if ct != "application/x-ndjson" && ct != "application/jsonl" && ct != "application/json-seq" {
		return sdkauth.Invalid(sdkauth.FieldError{Name: "Content-Type", Reason: "must be application/x-ndjson (one JSON user per line)"})
	}
	body, cut, err := readImport(c)
	if err != nil {
		return err
	}
	if n := bytes.Count(body, []byte{'\n'}) + 1; n > maxImportLines {
		return errImportTooLarge(fmt.Sprintf("must hold at most %d lines; split the file", maxImportLines))
	}
	lines, results := parseImport(body, cut != nil)
	if len(lines) == 0 && len(results) == 0 && cut == nil {
		return sdkauth.Invalid(sdkauth.FieldError{Name: "body", Reason: "holds no user: give one JSON object per line"})
	}
	// Not cancelled with the request: lines that arrived are imported to
	// the end, or not at all, batch by batch, whatever the client does.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), importWorkTimeout)
	defer cancel()
	for _, r := range h.Users.Import(ctx, lines) {
		results = append(results, newImportResult(r))
	}
	slices.SortFunc(results, func(a, b importResult) int { return a.Line - b.Line })

	res := importResponse{Complete: cut == nil, Results: results}
	for _, r := range results {
		switch r.Status {
		case users.ImportCreated:
			res.Created++
		case users.ImportExists:
			res.Existing++
		default:
			res.Failed++
		}
	}
	if cut != nil {
		p := newProblem(sdkauth.Invalid(*cut))
		res.BodyError = &p
	}
	h.Audit.Record(c.Request.Context(), auth.Event{
		Type:   auth.EventUsersImported,
		Detail: fmt.Sprintf("created=%d existing=%d failed=%d complete=%t", res.Created, res.Existing, res.Failed, res.Complete),
	})
	writeJSON(c, http.StatusOK, "application/json", res)
	return nil
}

// readImport reads the whole body within the import's own deadline, which
// replaces the server-wide ReadTimeout for this request. It returns what
// arrived and, when the body did not arrive whole, the true reason as a
// field error naming body. A body over the limit is CodeRequestTooLarge.
func readImport(c *gin.Context) (body []byte, cut *sdkauth.FieldError, err error) {
	if c.Request.ContentLength > maxImportBytes {
		return nil, nil, errImportTooLarge(fmt.Sprintf("must be at most %d bytes (16 MiB); split the file", maxImportBytes))
	}
	rc := http.NewResponseController(c.Writer)
	// An error means this connection's deadlines cannot be moved; the
	// server's then apply.
	ownDeadline := rc.SetReadDeadline(time.Now().Add(importReadTimeout)) == nil
	_ = rc.SetWriteDeadline(time.Now().Add(importReadTimeout + importWorkTimeout + time.Minute))
	body, err = io.ReadAll(c.Request.Body)
	_ = rc.SetWriteDeadline(time.Now().Add(importWorkTimeout + time.Minute))
	var tooBig *http.MaxBytesError
	reason := ""
	switch {
	case err == nil:
		return body, nil, nil
	case errors.As(err, &tooBig):
		return nil, nil, errImportTooLarge(fmt.Sprintf("must be at most %d bytes (16 MiB); split the file", maxImportBytes))
	case errors.Is(err, os.ErrDeadlineExceeded) && ownDeadline:
		reason = fmt.Sprintf("did not arrive within %s, the import's read deadline: %d bytes arrived", importReadTimeout, len(body))
	case errors.Is(err, os.ErrDeadlineExceeded):
		reason = fmt.Sprintf("did not arrive within the server's read timeout: %d bytes arrived", len(body))
	case errors.Is(err, io.ErrUnexpectedEOF) && c.Request.ContentLength > 0:
		reason = fmt.Sprintf("ended after %d of the %d bytes its Content-Length announced: the client stopped sending", len(body), c.Request.ContentLength)
	case errors.Is(err, io.ErrUnexpectedEOF):
		reason = fmt.Sprintf("ended after %d bytes, before its last chunk: the client stopped sending", len(body))
	default:
		reason = fmt.Sprintf("could not be read past %d bytes: the connection failed", len(body))
	}
	return body, &sdkauth.FieldError{Name: "body", Reason: reason}, nil
}

func errImportTooLarge(reason string) error {
	return &sdkauth.Error{
		Code:    sdkauth.CodeRequestTooLarge,
		Message: "The import is too large: body " + reason + ".",
		Fields:  []sdkauth.FieldError{{Name: "body", Reason: reason}},
	}
}

// parseImport splits body into lines and decodes each into a user. It
// returns the users to import and the results of the lines that failed
// here. When the body was cut, a last line without its newline was cut
// too, and is reported as such rather than as whatever its JSON lacks.
func parseImport(body []byte, cut bool) ([]users.ImportLine, []importResult) {
	var lines []users.ImportLine
	var failed []importResult
	for n := 1; len(body) > 0; n++ {
		raw, rest, whole := bytes.Cut(body, []byte{'\n'})
		body = rest
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue
		}
		var req adminCreateUserRequest
		var err error
		switch {
		case cut && !whole:
			err = sdkauth.Invalid(sdkauth.FieldError{Name: "line", Reason: "was cut off: the body ended inside it"})
		case len(raw) > maxImportLineBytes:
			err = sdkauth.Invalid(sdkauth.FieldError{Name: "line", Reason: fmt.Sprintf("is %d bytes long; a user's line is at most %d", len(raw), maxImportLineBytes)})
		default:
			if err = lineJSONError(json.Unmarshal(raw, &req)); err == nil {
				err = validate(&req)
			}
		}
		if err == nil && req.Password == "" && req.PasswordHash == "" {
			err = sdkauth.Invalid(sdkauth.FieldError{Name: "password", Reason: "is required (or password_hash)"})
		}
		var e *sdkauth.Error
		if errors.As(err, &e) {
			p := newProblem(e)
			failed = append(failed, importResult{Line: n, Username: req.Username, Status: users.ImportFailed, Error: &p})
			continue
		}
		lines = append(lines, users.ImportLine{Line: n, Input: req.input()})
	}
	return lines, failed
}

// lineJSONError names what is wrong with a line's JSON without quoting it
// (a line may hold a password).
func lineJSONError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syntax) && err.Error() == "unexpected end of JSON input":
		return sdkauth.Invalid(sdkauth.FieldError{Name: "line", Reason: "is not valid JSON: it ends before its object does"})
	case errors.As(err, &syntax):
		return sdkauth.Invalid(sdkauth.FieldError{Name: "line", Reason: fmt.Sprintf("is not valid JSON (at byte %d)", syntax.Offset)})
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return sdkauth.Invalid(sdkauth.FieldError{Name: "line", Reason: "must be a JSON object"})
	}
	return jsonError(err)
}

// newImportResult renders r. The domain has logged any cause behind r.Err,
// which is never shown.
func newImportResult(r users.ImportResult) importResult {
	res := importResult{Line: r.Line, Username: r.Username, Status: r.Status}
	if r.Err == nil {
		res.UserID = r.UserID.String()
		return res
	}
	p := newProblem(r.Err)
	res.Error = &p
	return res
}
