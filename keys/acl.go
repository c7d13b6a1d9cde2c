package keys

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ACL is the acl claim of a Vonage user token: which API paths the Client
// SDK may call, and with which methods. Path keys are patterns in which "*"
// stands for one path segment (the API version) and "**" for any rest.
type ACL struct {
	Paths map[string]ACLRule `json:"paths"`
}

// ACLRule restricts one path pattern. An empty Methods list allows every
// method; Filters are passed to Vonage as given.
type ACLRule struct {
	Methods []string       `json:"methods,omitempty"`
	Filters map[string]any `json:"filters,omitempty"`
}

// ACLError says which member of an ACL is wrong and why. Field is a dotted
// path such as "acl.paths./x.methods[0]", meant to be shown to the client as
// the name of an invalid parameter.
type ACLError struct {
	Field  string
	Reason string
}

func (e *ACLError) Error() string { return e.Field + ": " + e.Reason }

// aclMethods are the only methods Vonage's ACL grammar knows.
var aclMethods = [...]string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// defaultPaths is the Client SDK policy of DESIGN.md, sorted so that the
// precomputed JSON and DefaultACL agree.
var defaultPaths = [...]string{
	"/*/applications/**",
	"/*/conversations/**",
	"/*/devices/**",
	"/*/image/**",
	"/*/knocking/**",
	"/*/legs/**",
	"/*/media/**",
	"/*/push/**",
	"/*/rtc/**",
	"/*/sessions/**",
	"/*/users/**",
}

// DefaultACL returns the default Client SDK policy: the eleven paths the
// Client SDKs call, each with no restriction. It returns a fresh map on
// every call, so callers may modify the result.
func DefaultACL() ACL {
	a := ACL{Paths: make(map[string]ACLRule, len(defaultPaths))}
	for _, p := range defaultPaths {
		a.Paths[p] = ACLRule{}
	}
	return a
}

// ParseACL decodes an ACL from JSON strictly and validates it. Unlike
// encoding/json it rejects unknown members, naming them (so a typo such as
// "verbs" for "methods" is reported instead of silently widening the rule
// to every method), and it matches member names exactly.
//
// Every error is an *ACLError.
func ParseACL(data []byte) (ACL, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil || top == nil {
		return ACL{}, &ACLError{Field: "acl", Reason: "must be a JSON object with a \"paths\" member"}
	}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if k != "paths" {
			return ACL{}, &ACLError{Field: "acl." + k, Reason: "unknown field; an ACL has only \"paths\""}
		}
	}
	raw, ok := top["paths"]
	if !ok {
		return ACL{}, &ACLError{Field: "acl.paths", Reason: "is required"}
	}
	var paths map[string]json.RawMessage
	if err := json.Unmarshal(raw, &paths); err != nil {
		return ACL{}, &ACLError{Field: "acl.paths", Reason: "must be an object mapping path patterns to rules"}
	}
	a := ACL{Paths: make(map[string]ACLRule, len(paths))}
	for _, p := range slices.Sorted(maps.Keys(paths)) {
		rule, err := parseRule("acl.paths."+p, paths[p])
		if err != nil {
			return ACL{}, err
		}
		a.Paths[p] = rule
	}
	if err := a.Validate(); err != nil {
		return ACL{}, err
	}
	return a, nil
}

func parseRule(field string, raw json.RawMessage) (ACLRule, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return ACLRule{}, &ACLError{Field: field, Reason: "must be an object such as {} or {\"methods\":[\"GET\"]}"}
	}
	var r ACLRule
	for _, k := range slices.Sorted(maps.Keys(members)) {
		switch k {
		case "methods":
			if err := json.Unmarshal(members[k], &r.Methods); err != nil {
				return ACLRule{}, &ACLError{Field: field + ".methods", Reason: "must be an array of strings"}
			}
		case "filters":
			if err := json.Unmarshal(members[k], &r.Filters); err != nil {
				return ACLRule{}, &ACLError{Field: field + ".filters", Reason: "must be an object"}
			}
		default:
			return ACLRule{}, &ACLError{Field: field + "." + k, Reason: "unknown field; a rule has only \"methods\" and \"filters\""}
		}
	}
	return r, nil
}

// Validate reports whether a is an ACL Vonage accepts: at least one path,
// every key matching ^/[^\s]*$ (no whitespace of any kind, valid UTF-8),
// and methods drawn from GET, POST, PUT, PATCH and DELETE without
// duplicates. When several members are wrong it reports the one under the
// lexically smallest path, so the answer does not depend on map order.
//
// The error is an *ACLError.
func (a ACL) Validate() error {
	if len(a.Paths) == 0 {
		return &ACLError{Field: "acl.paths", Reason: "must contain at least one path"}
	}
	var worst *ACLError
	var worstPath string
	for p, r := range a.Paths {
		if worst != nil && p >= worstPath {
			continue
		}
		if err := checkRule(p, r); err != nil {
			worst, worstPath = err, p
		}
	}
	if worst != nil {
		return worst
	}
	return nil
}

func checkRule(p string, r ACLRule) *ACLError {
	if reason := checkPattern(p); reason != "" {
		return &ACLError{Field: "acl.paths." + p, Reason: reason}
	}
	var seen uint8
	for i, m := range r.Methods {
		bit := methodBit(m)
		if bit == 0 {
			return &ACLError{Field: methodField(p, i), Reason: strconv.Quote(m) + " is not one of GET, POST, PUT, PATCH, DELETE"}
		}
		if seen&bit != 0 {
			return &ACLError{Field: methodField(p, i), Reason: m + " is listed twice"}
		}
		seen |= bit
	}
	return nil
}

func checkPattern(p string) string {
	if p == "" || p[0] != '/' {
		return "path pattern must start with \"/\""
	}
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if c == ' ' || c >= '\t' && c <= '\r' {
				return "path pattern must not contain whitespace"
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(p[i:])
		if r == utf8.RuneError && size == 1 {
			return "path pattern must be valid UTF-8"
		}
		if unicode.IsSpace(r) {
			return "path pattern must not contain whitespace"
		}
		i += size
	}
	return ""
}

func methodBit(m string) uint8 {
	for i, am := range aclMethods {
		if m == am {
			return 1 << i
		}
	}
	return 0
}

func methodField(p string, i int) string {
	return "acl.paths." + p + ".methods[" + strconv.Itoa(i) + "]"
}

// Narrow returns req when it asks for no more than a allows, which is how a
// token request may narrow its policy but never widen it: every requested
// path must be a key of a (patterns are compared as written, not matched),
// and the requested methods must be among the allowed ones, an empty list
// meaning all five on either side. Filters of a are kept: a rule that names
// none inherits them, and one that names others is refused, because
// dropping a filter would widen the token.
//
// The result shares no slices or maps with req. The error is an *ACLError,
// either from req.Validate or naming the first member (in path order) that
// a does not allow.
func (a ACL) Narrow(req ACL) (ACL, error) {
	if err := req.Validate(); err != nil {
		return ACL{}, err
	}
	out := ACL{Paths: make(map[string]ACLRule, len(req.Paths))}
	for _, p := range slices.Sorted(maps.Keys(req.Paths)) {
		field := "acl.paths." + p
		allowed, ok := a.Paths[p]
		if !ok {
			return ACL{}, &ACLError{Field: field, Reason: "is not allowed by the policy"}
		}
		r := req.Paths[p]
		if len(allowed.Methods) > 0 {
			if len(r.Methods) == 0 {
				return ACL{}, &ACLError{Field: field + ".methods", Reason: "an empty list means every method; the policy allows only " + strings.Join(allowed.Methods, ", ")}
			}
			for i, m := range r.Methods {
				if !slices.Contains(allowed.Methods, m) {
					return ACL{}, &ACLError{Field: methodField(p, i), Reason: m + " is not allowed by the policy"}
				}
			}
		}
		filters := r.Filters
		if len(allowed.Filters) > 0 {
			if len(filters) == 0 {
				filters = allowed.Filters
			} else if !reflect.DeepEqual(filters, allowed.Filters) {
				return ACL{}, &ACLError{Field: field + ".filters", Reason: "must match the policy's filters"}
			}
		}
		out.Paths[p] = ACLRule{Methods: slices.Clone(r.Methods), Filters: maps.Clone(filters)}
	}
	return out, nil
}
