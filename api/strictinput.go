package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/sdkauth/sdkauth"
)

// strictInput refuses, before any handler (and so before any SQL) runs, a
// request whose data is not clean text: invalid UTF-8 or a NUL byte in a
// query parameter (name or value), a path parameter, a header that becomes
// data (User-Agent, HTTP Basic credentials), a form field or any JSON string,
// key or value. Postgres refuses such text (SQLSTATE 22021), and Go's JSON
// decoder would silently turn invalid UTF-8 into U+FFFD. The answer is 400
// naming the field. A body over the limit is 413 request_too_large.
//
// It reads the (bounded) body once and hands it on; the import route, which
// streams its large body line by line, checks its lines itself.
func strictInput(limit int64) gin.HandlerFunc {
	return handle(func(c *gin.Context) error { return checkRequest(c, limit) })
}

func checkRequest(c *gin.Context, limit int64) error {
	r := c.Request
	if r.ContentLength > limit && c.FullPath() != importPath {
		return tooLarge(limit)
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return sdkauth.Invalid(sdkauth.FieldError{Name: "query", Reason: "is not a valid query string"})
	}
	if err := checkValues(query, "query parameter name"); err != nil {
		return err
	}
	for _, p := range c.Params {
		if bad(p.Value) {
			return badText(p.Key)
		}
	}
	if bad(r.UserAgent()) {
		return badText("User-Agent")
	}
	if id, secret, ok := basicCredentials(c); ok && (bad(id) || bad(secret)) {
		return badText("Authorization")
	}
	if r.Body == nil || r.Body == http.NoBody || c.FullPath() == importPath {
		return nil
	}
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(tooBig.Limit)
	}
	if err != nil {
		return sdkauth.Invalid(sdkauth.FieldError{Name: "body", Reason: "could not be read"})
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	switch ct := c.ContentType(); {
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return sdkauth.Invalid(sdkauth.FieldError{Name: "body", Reason: "is not a valid form"})
		}
		if err := checkValues(form, "form field name"); err != nil {
			return err
		}
		// The handler's ParseForm then takes the fields parsed here.
		r.PostForm = form
	case len(body) > 0:
		if field, ok := cleanJSON(body); !ok {
			return badText(field)
		}
	}
	return nil
}

// checkValues refuses a name (called what) or a value that is not clean
// text, naming the parameter.
func checkValues(values url.Values, what string) error {
	for name, vs := range values {
		if bad(name) {
			return badText(what)
		}
		for _, v := range vs {
			if bad(v) {
				return badText(name)
			}
		}
	}
	return nil
}

// bad reports whether s is not valid UTF-8 or holds a NUL.
func bad(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }

func badText(field string) error {
	return sdkauth.Invalid(sdkauth.FieldError{Name: field, Reason: "must be valid UTF-8 text without NUL characters"})
}

func tooLarge(limit int64) error {
	return &sdkauth.Error{
		Code:    sdkauth.CodeRequestTooLarge,
		Message: fmt.Sprintf("The request body must be at most %d bytes.", limit),
		Fields:  []sdkauth.FieldError{{Name: "body", Reason: fmt.Sprintf("must be at most %d bytes", limit)}},
	}
}

// cleanJSON walks a JSON document and reports the first key or string value
// that is invalid UTF-8 or holds a NUL (written raw or as \u0000), named by
// its path ("acl.paths./*/users/**.methods[0]"). A document that is not
// valid JSON is left to the handler, which names what is wrong with it.
func cleanJSON(body []byte) (field string, ok bool) {
	badAt := -1 // offset of the first invalid UTF-8 byte
	if !utf8.Valid(body) {
		for i := 0; i < len(body); {
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				badAt = i
				break
			}
			i += size
		}
	}
	if badAt < 0 && !bytes.Contains(body, []byte{0}) && !bytes.Contains(body, []byte(`\u0000`)) {
		return "", true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		key    string
		index  int
		expect bool // an object expects a key next
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for i, f := range stack {
			switch {
			case f.object:
				if i > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			default:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		if b.Len() == 0 {
			return "body"
		}
		return b.String()
	}
	// advance moves past one value in the current container.
	advance := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].expect = true
			} else {
				stack[n-1].index++
			}
		}
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			// Invalid or finished: what was not found clean is refused
			// under the path reached.
			if badAt >= 0 || err != io.EOF {
				return path(), false
			}
			return "", true
		}
		end := dec.InputOffset()
		hit := badAt >= int(start) && badAt < int(end)
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{object: true, expect: true})
			case '[':
				stack = append(stack, frame{})
			default:
				stack = stack[:len(stack)-1]
				advance()
			}
		case string:
			n := len(stack)
			if n > 0 && stack[n-1].object && stack[n-1].expect {
				stack[n-1].key, stack[n-1].expect = t, false
				if hit || strings.IndexByte(t, 0) >= 0 {
					return path(), false
				}
				continue
			}
			if hit || strings.IndexByte(t, 0) >= 0 {
				return path(), false
			}
			advance()
		default:
			advance()
		}
	}
}
