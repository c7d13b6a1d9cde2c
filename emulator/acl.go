package emulator

import (
	"fmt"
	"sort"
	"strings"
)

// aclRule is one entry of a token's acl.paths: a path pattern and the methods it
// allows (nil allows every method).
type aclRule struct {
	pattern string
	methods []string
}

// accessList is the parsed acl claim of a user token.
type accessList struct {
	rules []aclRule
}

// parseACL interprets an acl claim the way the platform does:
//
//	{"paths": {"<pattern>": {"methods"?: ["GET", …], "filters"?: {…}}, …}}
//
// Pattern keys must match ^/[^\s]*$. Each entry must be an object; without
// "methods" it allows every method, with "methods" only those listed (an empty
// list allows none). "filters" and unknown members are accepted and ignored.
func parseACL(claim any) (accessList, error) {
	obj, ok := claim.(map[string]any)
	if !ok {
		return accessList{}, fmt.Errorf("acl must be an object, not %s", jsonKind(claim))
	}
	paths, ok := obj["paths"].(map[string]any)
	if !ok {
		return accessList{}, fmt.Errorf("acl.paths must be an object, not %s", jsonKind(obj["paths"]))
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var list accessList
	for _, pattern := range keys {
		if !strings.HasPrefix(pattern, "/") || strings.ContainsAny(pattern, " \t\r\n\f\v") {
			return accessList{}, fmt.Errorf("acl path %q must match ^/[^\\s]*$", pattern)
		}
		entry, ok := paths[pattern].(map[string]any)
		if !ok {
			return accessList{}, fmt.Errorf("acl entry for %q must be an object, not %s", pattern, jsonKind(paths[pattern]))
		}
		rule := aclRule{pattern: pattern}
		if raw, present := entry["methods"]; present {
			items, ok := raw.([]any)
			if !ok {
				return accessList{}, fmt.Errorf("acl methods for %q must be an array, not %s", pattern, jsonKind(raw))
			}
			rule.methods = make([]string, 0, len(items))
			for _, it := range items {
				m, ok := it.(string)
				if !ok {
					return accessList{}, fmt.Errorf("acl methods for %q must be strings", pattern)
				}
				rule.methods = append(rule.methods, strings.ToUpper(m))
			}
		}
		list.rules = append(list.rules, rule)
	}
	return list, nil
}

// check reports whether the list allows method on path, and if not, why.
func (l accessList) check(method, path string) (bool, string) {
	pathMatched := false
	for _, rule := range l.rules {
		if !matchACLPath(rule.pattern, path) {
			continue
		}
		pathMatched = true
		if rule.methods == nil {
			return true, ""
		}
		for _, m := range rule.methods {
			if m == method {
				return true, ""
			}
		}
	}
	if pathMatched {
		return false, fmt.Sprintf("The token's acl does not allow %s on %s.", method, path)
	}
	return false, fmt.Sprintf("The token's acl does not cover %s.", path)
}

// matchACLPath matches a request path against an ACL pattern, segment by segment:
// a "*" segment matches exactly one non-empty segment, a "**" segment matches
// zero or more segments (so "/*/users/**" covers "/v1/users" and everything
// below it), and any other segment must be equal. Wildcards inside a segment
// (such as "USR-*") are not special.
func matchACLPath(pattern, path string) bool {
	if !strings.HasPrefix(pattern, "/") || !strings.HasPrefix(path, "/") {
		return false
	}
	return matchSegments(strings.Split(pattern[1:], "/"), strings.Split(path[1:], "/"))
}

// matchSegments is the recursive core of matchACLPath.
func matchSegments(pat, segs []string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case "**":
			for i := 0; i <= len(segs); i++ {
				if matchSegments(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		case "*":
			if len(segs) == 0 || segs[0] == "" {
				return false
			}
		default:
			if len(segs) == 0 || segs[0] != pat[0] {
				return false
			}
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// jsonKind names the JSON type of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null or absent"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	default:
		return fmt.Sprintf("%T", v)
	}
}
