package emulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// jsonObject is a request body decoded one level deep, so that each member can be
// type-checked and reported by name.
type jsonObject map[string]json.RawMessage

// readObject reads the request body as a JSON object. An empty body is an empty
// object.
func readObject(r *http.Request) (jsonObject, *invalidParameter) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &invalidParameter{Name: "body", Reason: "request body is larger than " + strconv.Itoa(maxBodyBytes) + " bytes"}
		}
		return nil, &invalidParameter{Name: "body", Reason: "cannot read request body"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return jsonObject{}, nil
	}
	var obj jsonObject
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, &invalidParameter{Name: "body", Reason: "request body must be a JSON object"}
	}
	return obj, nil
}

// isNull reports whether a member is JSON null.
func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// validator collects invalid parameters while reading members of a jsonObject.
type validator struct {
	params []invalidParameter
}

// fail records a rejected parameter.
func (v *validator) fail(name, reason string) {
	v.params = append(v.params, invalidParameter{Name: name, Reason: reason})
}

// ok reports whether nothing has been rejected.
func (v *validator) ok() bool { return len(v.params) == 0 }

// str reads an optional string member. present is false when the member is
// absent; null reports present with null set.
func (v *validator) str(obj jsonObject, key, name string) (val string, present, null bool) {
	raw, present := obj[key]
	if !present {
		return "", false, false
	}
	if isNull(raw) {
		return "", true, true
	}
	if err := json.Unmarshal(raw, &val); err != nil {
		v.fail(name, `"`+name+`" must be a string`)
		return "", false, false
	}
	return val, true, false
}

// object reads an optional object member as a generic map (nil when absent or null).
func (v *validator) object(obj jsonObject, key, name string) (val map[string]any, present, null bool) {
	raw, present := obj[key]
	if !present {
		return nil, false, false
	}
	if isNull(raw) {
		return nil, true, true
	}
	if err := json.Unmarshal(raw, &val); err != nil || val == nil {
		v.fail(name, `"`+name+`" must be an object`)
		return nil, false, false
	}
	return val, true, false
}

// rawObject returns an optional object member compacted but otherwise as given
// (nil when absent or null).
func (v *validator) rawObject(obj jsonObject, key string) json.RawMessage {
	if _, present, null := v.object(obj, key, key); !present || null {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, obj[key]); err != nil {
		return nil
	}
	return buf.Bytes()
}

// absoluteURL reports whether s is an absolute http(s) URL.
func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// query parses the request's query string strictly: a malformed one (such as a
// bad percent escape) is reported instead of being silently dropped.
func (v *validator) query(r *http.Request) url.Values {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		v.fail("query", "malformed query string: "+err.Error())
	}
	return q
}

// intParam reads an optional integer query parameter within [lo, hi].
func (v *validator) intParam(q url.Values, name string, def, lo, hi int) int {
	s := q.Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		v.fail(name, `"`+name+`" must be a number`)
		return def
	}
	if n < lo || n > hi {
		v.fail(name, `"`+name+`" must be between `+strconv.Itoa(lo)+` and `+strconv.Itoa(hi))
		return def
	}
	return n
}

// cloneJSON deep-copies a decoded JSON value so snapshots share nothing with the
// store.
func cloneJSON(v map[string]any) map[string]any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// firstByte returns the first non-space byte of a JSON value, or 0.
func firstByte(raw json.RawMessage) byte {
	if t := bytes.TrimSpace(raw); len(t) > 0 {
		return t[0]
	}
	return 0
}

// decodeAny decodes a JSON value generically (nil when it does not decode).
func decodeAny(raw json.RawMessage) any {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// sortBySeq sorts items ascending by their creation sequence.
func sortBySeq[T any](items []T, seq func(T) uint64) {
	slices.SortFunc(items, func(a, b T) int { return cmp.Compare(seq(a), seq(b)) })
}

// itoa formats an unsigned id.
func itoa(n uint64) string { return strconv.FormatUint(n, 10) }
