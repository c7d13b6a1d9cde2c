package emulator

import (
	"encoding/json"
	"testing"
)

func TestMatchACLPath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, path string
		want          bool
	}{
		// "*" is exactly one non-empty segment.
		{"/*/users", "/v1/users", true},
		{"/*/users", "/v1/v2/users", false},
		{"/*/users", "//users", false},
		{"/*/users", "/v1/users/USR-1", false},
		// "**" is zero or more remaining segments.
		{"/*/users/**", "/v1/users", true},
		{"/*/users/**", "/v1/users/", true},
		{"/*/users/**", "/v1/users/USR-1", true},
		{"/*/users/**", "/v1/users/USR-1/conversations", true},
		{"/*/users/**", "/v1/usersX", false},
		{"/*/users/**", "/v1/conversations", false},
		{"/*/users/**", "/users", false},
		{"/**", "/v1/users/USR-1", true},
		{"/**", "/", true},
		// Literal paths match exactly.
		{"/v1/users", "/v1/users", true},
		{"/v1/users", "/v1/users/", false},
		{"/v1/users", "/v2/users", false},
		{"/v1/users/USR-1", "/v1/users/USR-1", true},
		{"/v1/users/USR-1", "/v1/users/USR-2", false},
		// "**" in the middle also spans segments.
		{"/v1/**/members", "/v1/conversations/CON-1/members", true},
		{"/v1/**/members", "/v1/members", true},
		{"/v1/**/members", "/v1/conversations/CON-1/events", false},
		// Wildcards inside a segment are not special.
		{"/v1/users/USR-*", "/v1/users/USR-1", false},
		{"/v1/users/USR-*", "/v1/users/USR-*", true},
		// Patterns and paths must be absolute.
		{"*/users", "/v1/users", false},
		{"", "/v1/users", false},
	}
	for _, tc := range cases {
		if got := matchACLPath(tc.pattern, tc.path); got != tc.want {
			t.Errorf("matchACLPath(%q, %q) = %v, want %v", tc.pattern, tc.path, got, tc.want)
		}
	}
}

func TestACLCheck(t *testing.T) {
	t.Parallel()
	const clientSDK = `{"paths":{"/*/users/**":{},"/*/conversations/**":{},"/*/sessions/**":{}}}`
	cases := []struct {
		name, acl, method, path string
		want                    bool
	}{
		{"empty entry allows every method", clientSDK, "DELETE", "/v1/users/USR-1", true},
		{"collection covered by **", clientSDK, "POST", "/v1/users", true},
		{"path not covered", clientSDK, "GET", "/v2/applications", false},
		{"methods restrict", `{"paths":{"/*/users/**":{"methods":["GET"]}}}`, "GET", "/v1/users", true},
		{"method not listed", `{"paths":{"/*/users/**":{"methods":["GET"]}}}`, "POST", "/v1/users", false},
		{"methods compare case-insensitively", `{"paths":{"/*/users/**":{"methods":["patch"]}}}`, "PATCH", "/v1/users/USR-1", true},
		{"empty methods allow nothing", `{"paths":{"/*/users/**":{"methods":[]}}}`, "GET", "/v1/users", false},
		{"filters are ignored", `{"paths":{"/*/users/**":{"filters":{"name":"x"}}}}`, "GET", "/v1/users", true},
		{"any matching entry may allow", `{"paths":{"/*/users/**":{"methods":["GET"]},"/v1/users/USR-1":{}}}`, "DELETE", "/v1/users/USR-1", true},
		{"no paths allow nothing", `{"paths":{}}`, "GET", "/v1/users", false},
	}
	for _, tc := range cases {
		var claim any
		if err := json.Unmarshal([]byte(tc.acl), &claim); err != nil {
			t.Fatal(err)
		}
		list, err := parseACL(claim)
		if err != nil {
			t.Errorf("%s: parseACL: %v", tc.name, err)
			continue
		}
		if got, why := list.check(tc.method, tc.path); got != tc.want {
			t.Errorf("%s: check(%s %s) = %v (%s), want %v", tc.name, tc.method, tc.path, got, why, tc.want)
		}
	}
}

func TestParseACLRejectsMalformed(t *testing.T) {
	t.Parallel()
	for _, acl := range []string{
		`"paths"`,
		`{}`,
		`{"paths":[]}`,
		`{"paths":{"v1/users":{}}}`,
		`{"paths":{"/v1/ users":{}}}`,
		`{"paths":{"/v1/users":null}}`,
		`{"paths":{"/v1/users":true}}`,
		`{"paths":{"/v1/users":{"methods":"GET"}}}`,
		`{"paths":{"/v1/users":{"methods":[1]}}}`,
	} {
		var claim any
		if err := json.Unmarshal([]byte(acl), &claim); err != nil {
			t.Fatal(err)
		}
		if _, err := parseACL(claim); err == nil {
			t.Errorf("parseACL(%s) accepted a malformed acl", acl)
		}
	}
}

func TestNormalizePath(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"/v1/users":                               "/v1/users",
		"/v1/users/USR-1":                         "/v1/users/{id}",
		"/v2/applications/abc":                    "/v2/applications/{id}",
		"/v0.3/conversations/CON-1/members":       "/v0.3/conversations/{id}/members",
		"/v0.3/conversations/CON-1/members/MEM-1": "/v0.3/conversations/{id}/members/{id}",
		"/v1/users/":                              "/v1/users/",
		"/other/thing/here":                       "/other/thing/here",
	}
	for in, want := range cases {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}
