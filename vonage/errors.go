package vonage

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// CodeDuplicateName is the problem code Vonage answers when a user name is
// taken. Branch on it, not on the status, which Vonage has changed before.
const CodeDuplicateName = "user:error:duplicate-name"

// ErrNotFound matches (with errors.Is) every *Error whose status is 404,
// including the one FindUserByName returns when no user has the name.
var ErrNotFound = errors.New("vonage: not found")

// Error is a non-2xx answer from Vonage. When the body is Vonage's problem
// JSON its members are decoded; otherwise Title is the status text and
// Detail a trimmed snippet of the body. Method and Path (without the query)
// name the request, for logs.
type Error struct {
	Status            int
	Type              string
	Title             string
	Detail            string
	Instance          string
	Code              string
	InvalidParameters []InvalidParameter
	// RetryAfter is the parsed Retry-After header (delay seconds or an
	// HTTP date), zero when absent.
	RetryAfter time.Duration
	Method     string
	Path       string
}

// InvalidParameter is one entry of a problem's invalid_parameters.
type InvalidParameter struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Error describes the problem. It is built only from the response and the
// request line, so it never contains the bearer token or API secret.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("vonage: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.Path + ": ")
	}
	b.WriteString(strconv.Itoa(e.Status))
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Title != "" {
		b.WriteString(": " + e.Title)
	}
	if e.Detail != "" {
		b.WriteString(" (" + e.Detail + ")")
	}
	for i, p := range e.InvalidParameters {
		if i == 0 {
			b.WriteString(" invalid parameters:")
		}
		b.WriteString(" " + p.Name + ": " + p.Reason + ";")
	}
	if e.RetryAfter > 0 {
		b.WriteString(" retry after " + e.RetryAfter.String())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// HasCode reports whether err is (or wraps) an *Error with the given
// problem code, whatever its status. Vonage sometimes carries the code only
// as the fragment of the type URI, so that is accepted too.
func HasCode(err error, code string) bool {
	var e *Error
	if code == "" || !errors.As(err, &e) {
		return false
	}
	if e.Code != "" {
		return e.Code == code
	}
	return strings.HasSuffix(e.Type, "#"+code)
}

// IsNotFound reports whether err says the resource does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsRetryable reports whether the same request may succeed later: network
// errors and timeouts, 429 and 5xx answers. Other 4xx answers, a cancelled
// context and local failures (such as the TokenSource failing) are not.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status == http.StatusTooManyRequests || e.Status >= 500
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var te *transportError
	var ne net.Error
	return errors.As(err, &te) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
}

// transportError marks failures to get a complete answer at all, which are
// the retryable kind.
type transportError struct {
	op  string
	err error
}

func (e *transportError) Error() string { return "vonage: " + e.op + ": " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// maxSnippet bounds how much of a non-JSON body ends up in logs.
const maxSnippet = 200

// newError builds the *Error for a non-2xx response from its body.
func newError(resp *http.Response, body []byte, method, path string, now time.Time) *Error {
	e := &Error{Status: resp.StatusCode, Method: method, Path: path,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), now)}
	var p struct {
		Type              string             `json:"type"`
		Title             string             `json:"title"`
		Detail            string             `json:"detail"`
		Instance          string             `json:"instance"`
		Code              string             `json:"code"`
		InvalidParameters []InvalidParameter `json:"invalid_parameters"`
	}
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "{") && json.Unmarshal(body, &p) == nil {
		e.Type, e.Title, e.Detail, e.Instance, e.Code = p.Type, p.Title, p.Detail, p.Instance, p.Code
		e.InvalidParameters = p.InvalidParameters
	} else {
		e.Detail = snippet(trimmed)
	}
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	return e
}

// snippet collapses whitespace (an HTML error page is mostly that) and
// cuts the text to maxSnippet bytes on a rune boundary.
func snippet(s string) string {
	s = strings.Join(strings.FieldsFunc(strings.ToValidUTF8(s, "?"), unicode.IsSpace), " ")
	if len(s) <= maxSnippet {
		return s
	}
	cut := maxSnippet
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// parseRetryAfter reads RFC 9110 Retry-After: delay seconds or an HTTP date.
// Anything unparsable or in the past is zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Clamp absurd values instead of overflowing Duration.
		return time.Duration(min(secs, int64(24*time.Hour/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
