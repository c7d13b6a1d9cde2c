package keys

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "new-user", `quo"te`, `back\slash`, "ctl\x00\x01\x1f", "\b\f\n\r\t", "<script>&</script>",
		"ünïcødé 日本", "bad\xffutf8\xc3", "line\u2028para\u2029", "emoji 😀", "\x7f",
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendACLMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	many := ACL{Paths: map[string]ACLRule{}}
	for _, p := range []string{"/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i", "/j", "/k", "/l", "/m", "/n", "/o", "/p", "/q", "/r"} {
		many.Paths[p] = ACLRule{Methods: []string{"GET"}}
	}
	for name, a := range map[string]ACL{
		"default":   DefaultACL(),
		"methods":   {Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"GET", "POST"}}}},
		"filters":   {Paths: map[string]ACLRule{"/x": {Filters: map[string]any{"b": []any{1.0, "two"}, "a": map[string]any{"z": nil}}}}},
		"both":      {Paths: map[string]ACLRule{"/x": {Methods: []string{"DELETE"}, Filters: map[string]any{"k": "v"}}}},
		"escaping":  {Paths: map[string]ACLRule{`/a"<b>`: {}}},
		"> 16 keys": many,
		"nil paths": {},
	} {
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendACL(nil, &a)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s: appendACL = %s, want %s", name, got, want)
		}
	}
}

func TestAppendPayloadOrder(t *testing.T) {
	t.Parallel()
	acl := ACL{Paths: map[string]ACLRule{"/*/users/**": {}}}
	c := Claims{
		ApplicationID: testAppID,
		Subject:       `new"user`,
		ACL:           &acl,
		IssuedAt:      time.Unix(1700000000, 0),
		ExpiresAt:     time.Unix(1700000900, 0),
		ID:            "6f1c3c0e-5a3b-4c7e-9d2a-0b8e6f4a1c2d",
	}
	got, err := appendPayload(nil, &c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"application_id":"` + testAppID + `","iat":1700000000,"exp":1700000900,` +
		`"jti":"6f1c3c0e-5a3b-4c7e-9d2a-0b8e6f4a1c2d","sub":"new\"user","acl":{"paths":{"/*/users/**":{}}}}`
	if string(got) != want {
		t.Fatalf("payload =\n%s\nwant\n%s", got, want)
	}

	c.Subject, c.ACL = "", nil
	got, _ = appendPayload(nil, &c)
	want = `{"application_id":"` + testAppID + `","iat":1700000000,"exp":1700000900,"jti":"6f1c3c0e-5a3b-4c7e-9d2a-0b8e6f4a1c2d"}`
	if string(got) != want {
		t.Fatalf("admin payload =\n%s\nwant\n%s", got, want)
	}
}
