package keys

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/internal/jwttest"
)

// TestVerifyStrictJSON signs every token with the trusted key, so the only
// reason a refused token is refused is the shape of its header or claims.
func TestVerifyStrictJSON(t *testing.T) {
	t.Parallel()
	a, _ := testKeys(t)
	kid := Thumbprint(&a.PublicKey)
	iat := fixedNow.Unix()
	hdr := func(extra string) string { return `{"alg":"RS256","typ":"JWT","kid":"` + kid + `"` + extra + `}` }
	clm := func(extra string) string {
		return fmt.Sprintf(`{"application_id":%q,"iat":%d,"exp":%d,"jti":"6f1c3c0e-5a3b-4c7e-9d2a-0b8e6f4a1c2d","sub":"new-user"%s}`, testAppID, iat, iat+900, extra)
	}
	acl := `,"acl":{"paths":{"/*/users/**":{"methods":["GET"]},"/*/conversations/**":{"methods":["GET"]}}}`

	tests := []struct {
		name           string
		header, claims string
		why            string // "" means the token is accepted
	}{
		{name: "plain token", header: hdr(""), claims: clm("")},
		{name: "no kid", header: `{"alg":"RS256","typ":"JWT"}`, claims: clm("")},
		{name: "members in another order", header: `{"kid":"` + kid + `","typ":"JWT","alg":"RS256"}`, claims: clm("")},
		{name: "a header parameter sdkauth does not use", header: hdr(`,"x5t":"abc"`), claims: clm("")},
		{name: "the same name in sibling objects", header: hdr(""), claims: clm(acl)},
		{name: "a claim sdkauth does not read, in capitals", header: hdr(""), claims: clm(`,"Custom":1,"custom":2`)},

		{name: "crit naming an unknown extension", header: hdr(`,"crit":["unknown-ext"],"unknown-ext":true`), claims: clm(""), why: "crit lists"},
		{name: "crit naming a registered claim", header: hdr(`,"crit":["exp"],"exp":1`), claims: clm(""), why: "crit lists"},
		{name: "crit empty", header: hdr(`,"crit":[]`), claims: clm(""), why: "crit is an empty array"},
		{name: "crit a string", header: hdr(`,"crit":"unknown-ext"`), claims: clm(""), why: "crit is not an array of strings"},
		{name: "crit of numbers", header: hdr(`,"crit":[1]`), claims: clm(""), why: "crit is not an array of strings"},
		{name: "crit null", header: hdr(`,"crit":null`), claims: clm(""), why: "crit is an empty array"},
		{name: "crit an object", header: hdr(`,"crit":{}`), claims: clm(""), why: "crit is not an array of strings"},

		{name: "header repeats alg", header: `{"alg":"none","alg":"RS256","kid":"` + kid + `"}`, claims: clm(""), why: `header: member "alg" appears twice`},
		{name: "header repeats kid", header: `{"alg":"RS256","kid":"other","kid":"` + kid + `"}`, claims: clm(""), why: `header: member "kid" appears twice`},
		{name: "header repeats typ, once escaped", header: hdr(`,"t\u0079p":"JWT"`), claims: clm(""), why: `header: member "typ" appears twice`},
		{name: "claims repeat sub", header: hdr(""), claims: clm(`,"sub":"other-user"`), why: `claims: member "sub" appears twice`},
		{name: "claims repeat exp", header: hdr(""), claims: clm(fmt.Sprintf(`,"exp":%d`, iat+86400*30)), why: `claims: member "exp" appears twice`},
		{name: "claims repeat application_id", header: hdr(""), claims: clm(`,"application_id":"other"`), why: `member "application_id" appears twice`},
		{name: "claims repeat a claim sdkauth does not read", header: hdr(""), claims: clm(`,"x":1,"x":2`), why: `member "x" appears twice`},
		{name: "acl repeats a path", header: hdr(""), claims: clm(`,"acl":{"paths":{"/*/users/**":{"methods":["GET"]},"/*/users/**":{}}}`), why: `member "/*/users/**" appears twice`},
		{name: "acl rule repeats methods", header: hdr(""), claims: clm(`,"acl":{"paths":{"/*/users/**":{"methods":["GET"],"methods":["DELETE"]}}}`), why: `member "methods" appears twice`},
		{name: "a repeat inside an array", header: hdr(""), claims: clm(`,"x":[{"a":1,"a":2}]`), why: `member "a" appears twice`},
		{name: "sub in another case", header: hdr(""), claims: clm(`,"SUB":"other-user"`), why: `"SUB" differs from "sub" only in case`},
		{name: "exp alone in another case", header: hdr(""), claims: strings.Replace(clm(""), `"exp"`, `"Exp"`, 1), why: `"Exp" differs from "exp" only in case`},
		{name: "header followed by more JSON", header: hdr("") + `{}`, claims: clm(""), why: "header: not a single JSON value"},
		{name: "header not an object", header: `["RS256"]`, claims: clm(""), why: "header: not a JSON object"},
		{name: "claims not JSON", header: hdr(""), claims: `{"sub":`, why: "claims: not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := testVerifier(&a.PublicKey).Verify(jwttest.SignRS256(t, a, tt.header, tt.claims))
			if tt.why == "" {
				if err != nil {
					t.Fatalf("a good token was refused: %v", err)
				}
				return
			}
			wantRefused(t, err, tt.why)
		})
	}
}

func TestInspectReportsStrictJSON(t *testing.T) {
	t.Parallel()
	a, _ := testKeys(t)
	iat := fixedNow.Unix()
	claims := fmt.Sprintf(`{"application_id":%q,"iat":%d,"exp":%d,"jti":"6f1c3c0e-5a3b-4c7e-9d2a-0b8e6f4a1c2d"}`, testAppID, iat, iat+900)
	for header, want := range map[string]string{
		`{"alg":"RS256","typ":"JWT"}`:                       "",
		`{"alg":"RS256","crit":["unknown-ext"]}`:            "crit lists",
		`{"alg":"RS256","typ":"JWT","typ":"JOSE"}`:          `member "typ" appears twice`,
		`{"alg":"RS256","kid":"a","crit":[],"kid":"b"}`:     `member "kid" appears twice`,
		`{"alg":"RS256","typ":"JWT","crit":"not-an-array"}`: "crit is not an array",
	} {
		in, err := Inspect(jwttest.SignRS256(t, a, header, claims), &a.PublicKey, testAppID, fixedNow)
		if err != nil {
			t.Fatalf("%s: %v", header, err)
		}
		var got *Finding
		for i := range in.Findings {
			if in.Findings[i].Check == "strict JSON" {
				got = &in.Findings[i]
			}
		}
		switch {
		case got == nil:
			t.Errorf("%s: no strict JSON finding in %+v", header, in.Findings)
		case want == "" && (!got.OK || !in.Valid()):
			t.Errorf("%s: a good token fails: %+v", header, in.Findings)
		case want != "" && (got.OK || in.Valid() || !strings.Contains(got.Detail, want)):
			t.Errorf("%s: finding %+v, want a failure mentioning %q", header, *got, want)
		}
	}
}
