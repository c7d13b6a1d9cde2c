package keys

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultACL(t *testing.T) {
	t.Parallel()
	a := DefaultACL()
	want := []string{"/*/users/**", "/*/conversations/**", "/*/sessions/**", "/*/devices/**", "/*/image/**",
		"/*/media/**", "/*/applications/**", "/*/push/**", "/*/knocking/**", "/*/legs/**", "/*/rtc/**"}
	if len(a.Paths) != len(want) {
		t.Fatalf("DefaultACL has %d paths, want %d", len(a.Paths), len(want))
	}
	for _, p := range want {
		r, ok := a.Paths[p]
		if !ok {
			t.Errorf("DefaultACL lacks %s", p)
		}
		if len(r.Methods) != 0 || len(r.Filters) != 0 {
			t.Errorf("DefaultACL %s = %+v, want {}", p, r)
		}
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("DefaultACL is invalid: %v", err)
	}
	a.Paths["/extra"] = ACLRule{}
	if len(DefaultACL().Paths) != len(want) {
		t.Fatal("modifying one DefaultACL result changed the next")
	}
}

func TestACLValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		acl       ACL
		wantField string // empty: valid
		wantIn    string
	}{
		{name: "default", acl: DefaultACL()},
		{name: "methods", acl: ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"GET", "POST", "PUT", "PATCH", "DELETE"}}}}},
		{name: "root", acl: ACL{Paths: map[string]ACLRule{"/": {}}}},
		{name: "non-ASCII", acl: ACL{Paths: map[string]ACLRule{"/*/ünïcode/**": {}}}},
		{name: "nil paths", acl: ACL{}, wantField: "acl.paths", wantIn: "at least one"},
		{name: "empty paths", acl: ACL{Paths: map[string]ACLRule{}}, wantField: "acl.paths", wantIn: "at least one"},
		{name: "no leading slash", acl: ACL{Paths: map[string]ACLRule{"*/users/**": {}}}, wantField: "acl.paths.*/users/**", wantIn: `start with "/"`},
		{name: "empty key", acl: ACL{Paths: map[string]ACLRule{"": {}}}, wantField: "acl.paths.", wantIn: `start with "/"`},
		{name: "space in path", acl: ACL{Paths: map[string]ACLRule{"/*/users /**": {}}}, wantField: "acl.paths./*/users /**", wantIn: "whitespace"},
		{name: "tab in path", acl: ACL{Paths: map[string]ACLRule{"/a\tb": {}}}, wantField: "acl.paths./a\tb", wantIn: "whitespace"},
		{name: "newline in path", acl: ACL{Paths: map[string]ACLRule{"/a\n": {}}}, wantIn: "whitespace"},
		{name: "no-break space in path", acl: ACL{Paths: map[string]ACLRule{"/a\u00a0b": {}}}, wantIn: "whitespace"},
		{name: "invalid UTF-8", acl: ACL{Paths: map[string]ACLRule{"/a\xffb": {}}}, wantIn: "UTF-8"},
		{name: "bad method", acl: ACL{Paths: map[string]ACLRule{"/x": {Methods: []string{"GET", "FETCH"}}}}, wantField: "acl.paths./x.methods[1]", wantIn: `"FETCH" is not one of`},
		{name: "lower-case method", acl: ACL{Paths: map[string]ACLRule{"/x": {Methods: []string{"get"}}}}, wantField: "acl.paths./x.methods[0]"},
		{name: "duplicate method", acl: ACL{Paths: map[string]ACLRule{"/x": {Methods: []string{"GET", "POST", "GET"}}}}, wantField: "acl.paths./x.methods[2]", wantIn: "twice"},
		{name: "smallest bad path reported", acl: ACL{Paths: map[string]ACLRule{"/ok": {}, "/b": {Methods: []string{"X"}}, "/a": {Methods: []string{"Y"}}, "/c d": {}}}, wantField: "acl.paths./a.methods[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.acl.Validate()
			if tt.wantField == "" && tt.wantIn == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ae *ACLError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *ACLError", err)
			}
			if tt.wantField != "" && ae.Field != tt.wantField {
				t.Errorf("Field = %q, want %q", ae.Field, tt.wantField)
			}
			if !strings.Contains(ae.Reason, tt.wantIn) {
				t.Errorf("Reason = %q, want it to mention %q", ae.Reason, tt.wantIn)
			}
		})
	}
}

func TestParseACL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		in        string
		want      ACL
		wantField string // empty: valid
		wantIn    string
	}{
		{name: "paths with rules", in: `{"paths":{"/*/users/**":{},"/*/conversations/**":{"methods":["GET"],"filters":{"a":1}}}}`,
			want: ACL{Paths: map[string]ACLRule{"/*/users/**": {}, "/*/conversations/**": {Methods: []string{"GET"}, Filters: map[string]any{"a": 1.0}}}}},
		{name: "null rule is empty", in: `{"paths":{"/x":null}}`, want: ACL{Paths: map[string]ACLRule{"/x": {}}}},
		{name: "verbs named", in: `{"paths":{"/x":{"verbs":["GET"]}}}`, wantField: "acl.paths./x.verbs", wantIn: "unknown field"},
		{name: "case-sensitive member", in: `{"paths":{"/x":{"Methods":["GET"]}}}`, wantField: "acl.paths./x.Methods", wantIn: "unknown field"},
		{name: "unknown top-level member", in: `{"paths":{"/x":{}},"path":{}}`, wantField: "acl.path", wantIn: "unknown field"},
		{name: "bad method", in: `{"paths":{"/x":{"methods":["GET","TRACE"]}}}`, wantField: "acl.paths./x.methods[1]", wantIn: "TRACE"},
		{name: "no leading slash", in: `{"paths":{"users/**":{}}}`, wantField: "acl.paths.users/**", wantIn: `start with "/"`},
		{name: "whitespace in path", in: `{"paths":{"/a b":{}}}`, wantField: "acl.paths./a b", wantIn: "whitespace"},
		{name: "methods not an array", in: `{"paths":{"/x":{"methods":"GET"}}}`, wantField: "acl.paths./x.methods", wantIn: "array"},
		{name: "filters not an object", in: `{"paths":{"/x":{"filters":[1]}}}`, wantField: "acl.paths./x.filters"},
		{name: "rule not an object", in: `{"paths":{"/x":[]}}`, wantField: "acl.paths./x"},
		{name: "paths missing", in: `{}`, wantField: "acl.paths", wantIn: "required"},
		{name: "paths empty", in: `{"paths":{}}`, wantField: "acl.paths", wantIn: "at least one"},
		{name: "paths not an object", in: `{"paths":["/x"]}`, wantField: "acl.paths"},
		{name: "not an object", in: `["/x"]`, wantField: "acl"},
		{name: "null", in: `null`, wantField: "acl"},
		{name: "trailing data", in: `{"paths":{"/x":{}}} {}`, wantField: "acl"},
		{name: "not JSON", in: `paths: /x`, wantField: "acl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseACL([]byte(tt.in))
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			var ae *ACLError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *ACLError", err)
			}
			if ae.Field != tt.wantField {
				t.Errorf("Field = %q, want %q", ae.Field, tt.wantField)
			}
			if !strings.Contains(ae.Error(), tt.wantIn) {
				t.Errorf("error = %q, want it to mention %q", ae.Error(), tt.wantIn)
			}
		})
	}
}

func TestACLJSONRoundTrip(t *testing.T) {
	t.Parallel()
	a := ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"GET"}}, "/*/rtc/**": {}}}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"paths":{"/*/rtc/**":{},"/*/users/**":{"methods":["GET"]}}}`; string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	back, err := ParseACL(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, a) {
		t.Fatalf("round trip = %+v, want %+v", back, a)
	}
}

func TestACLNarrow(t *testing.T) {
	t.Parallel()
	policy := ACL{Paths: map[string]ACLRule{
		"/*/users/**":         {},
		"/*/conversations/**": {Methods: []string{"GET", "POST"}},
		"/*/sessions/**":      {Filters: map[string]any{"id": "a"}},
	}}
	tests := []struct {
		name      string
		req       ACL
		want      ACL
		wantField string // empty: allowed
	}{
		{name: "same", req: policy, want: policy},
		{name: "fewer paths", req: ACL{Paths: map[string]ACLRule{"/*/users/**": {}}}, want: ACL{Paths: map[string]ACLRule{"/*/users/**": {}}}},
		{name: "fewer methods", req: ACL{Paths: map[string]ACLRule{"/*/conversations/**": {Methods: []string{"GET"}}}},
			want: ACL{Paths: map[string]ACLRule{"/*/conversations/**": {Methods: []string{"GET"}}}}},
		{name: "methods on an unrestricted path", req: ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"DELETE", "GET"}}}},
			want: ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"DELETE", "GET"}}}}},
		{name: "filters inherited", req: ACL{Paths: map[string]ACLRule{"/*/sessions/**": {Methods: []string{"GET"}}}},
			want: ACL{Paths: map[string]ACLRule{"/*/sessions/**": {Methods: []string{"GET"}, Filters: map[string]any{"id": "a"}}}}},
		{name: "filters added where none", req: ACL{Paths: map[string]ACLRule{"/*/users/**": {Filters: map[string]any{"x": true}}}},
			want: ACL{Paths: map[string]ACLRule{"/*/users/**": {Filters: map[string]any{"x": true}}}}},
		{name: "extra path", req: ACL{Paths: map[string]ACLRule{"/*/users/**": {}, "/*/media/**": {}}}, wantField: "acl.paths./*/media/**"},
		{name: "broader pattern", req: ACL{Paths: map[string]ACLRule{"/**": {}}}, wantField: "acl.paths./**"},
		{name: "extra method", req: ACL{Paths: map[string]ACLRule{"/*/conversations/**": {Methods: []string{"GET", "DELETE"}}}}, wantField: "acl.paths./*/conversations/**.methods[1]"},
		{name: "empty methods mean all five", req: ACL{Paths: map[string]ACLRule{"/*/conversations/**": {}}}, wantField: "acl.paths./*/conversations/**.methods"},
		{name: "other filters", req: ACL{Paths: map[string]ACLRule{"/*/sessions/**": {Filters: map[string]any{"id": "b"}}}}, wantField: "acl.paths./*/sessions/**.filters"},
		{name: "invalid request", req: ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"get"}}}}, wantField: "acl.paths./*/users/**.methods[0]"},
		{name: "empty request", req: ACL{}, wantField: "acl.paths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policy.Narrow(tt.req)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %+v, want %+v", got, tt.want)
				}
				return
			}
			var ae *ACLError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *ACLError", err)
			}
			if ae.Field != tt.wantField {
				t.Fatalf("Field = %q, want %q (%v)", ae.Field, tt.wantField, err)
			}
		})
	}
	// The result must not alias the request: callers keep and reuse both.
	req := ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"GET"}}}}
	got, _ := policy.Narrow(req)
	req.Paths["/*/users/**"].Methods[0] = "DELETE"
	if got.Paths["/*/users/**"].Methods[0] != "GET" {
		t.Fatal("Narrow's result shares the request's methods slice")
	}
}
