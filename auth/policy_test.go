package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/keys"
)

const readOnlyACL = `{"paths":{"/*/users/**":{"methods":["GET"]},"/*/conversations/**":{"methods":["GET"]}}}`

func ttlSeconds(n int64) *int64 { return &n }

// fieldNames returns the names of the invalid parameters of err.
func fieldNames(err error) []string {
	var e *sdkauth.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Name)
	}
	return out
}

func TestReadOnlyPolicyGrants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := auth.NewPolicies(dbtest.New(t), 15*time.Minute, 24*time.Hour, nil)
	pol, created, err := p.Put(ctx, "read-only", auth.PolicyInput{ACL: json.RawMessage(readOnlyACL), MaxTTL: ttlSeconds(3600)})
	if err != nil || !created {
		t.Fatalf("Put: %v %v", created, err)
	}
	got, err := p.Get(ctx, "read-only")
	if err != nil {
		t.Fatal(err)
	}
	if got.MaxTTL != time.Hour || got.BuiltIn || len(got.ACL.Paths) != 2 {
		t.Fatalf("Get = %+v", got)
	}
	if b, _ := json.Marshal(got.ACL); !jsonEqual(t, b, []byte(readOnlyACL)) {
		t.Fatalf("stored ACL %s, want %s", b, readOnlyACL)
	}
	if _, err := p.Get(ctx, "no-such-policy"); sdkauth.ErrorCode(err) != sdkauth.CodeNotFound {
		t.Fatalf("Get of an unknown policy: %v", err)
	}

	acl, ttl, err := p.Grant(pol, 0, nil)
	if err != nil || ttl != 15*time.Minute || len(acl.Paths) != 2 {
		t.Fatalf("default grant: %v %s %v", acl, ttl, err)
	}
	if _, ttl, err := p.Grant(pol, time.Hour, nil); err != nil || ttl != time.Hour {
		t.Fatalf("ttl=3600: %s %v", ttl, err)
	}
	if _, _, err := p.Grant(pol, 2*time.Hour, nil); sdkauth.ErrorCode(err) != sdkauth.CodeValidation || !slices.Equal(fieldNames(err), []string{"ttl"}) {
		t.Fatalf("ttl=7200: %v", err)
	}
	users, _ := keys.ParseACL([]byte(`{"paths":{"/*/users/**":{"methods":["GET"]}}}`))
	if acl, _, err := p.Grant(pol, 0, &users); err != nil || len(acl.Paths) != 1 || !slices.Equal(acl.Paths["/*/users/**"].Methods, []string{"GET"}) {
		t.Fatalf("narrowing to users: %v %v", acl, err)
	}
	for name, raw := range map[string]string{
		"a path outside the policy": `{"paths":{"/*/media/**":{}}}`,
		"every method":              `{"paths":{"/*/users/**":{}}}`,
		"POST":                      `{"paths":{"/*/users/**":{"methods":["POST"]}}}`,
	} {
		req, _ := keys.ParseACL([]byte(raw))
		if _, _, err := p.Grant(pol, 0, &req); sdkauth.ErrorCode(err) != sdkauth.CodeACLNotAllowed {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPolicyPutValidates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := auth.NewPolicies(dbtest.New(t), 15*time.Minute, 24*time.Hour, nil)
	cases := []struct {
		name   string
		policy string
		in     auth.PolicyInput
		fields []string
	}{
		{"nothing", "agent", auth.PolicyInput{}, []string{"acl", "max_ttl"}},
		{"the built-in policy", "client-sdk", auth.PolicyInput{ACL: json.RawMessage(readOnlyACL), MaxTTL: ttlSeconds(60)}, []string{"name"}},
		{"a bad name", "Read Only", auth.PolicyInput{ACL: json.RawMessage(readOnlyACL), MaxTTL: ttlSeconds(60)}, []string{"name"}},
		{"max_ttl past 24 h", "agent", auth.PolicyInput{ACL: json.RawMessage(readOnlyACL), MaxTTL: ttlSeconds(86401)}, []string{"max_ttl"}},
		{"max_ttl under 30 s", "agent", auth.PolicyInput{ACL: json.RawMessage(readOnlyACL), MaxTTL: ttlSeconds(29)}, []string{"max_ttl"}},
		{"verbs for methods", "agent", auth.PolicyInput{ACL: json.RawMessage(`{"paths":{"/*/users/**":{"verbs":["GET"]}}}`), MaxTTL: ttlSeconds(60)}, []string{"acl.paths./*/users/**.verbs"}},
		{"a bad method", "agent", auth.PolicyInput{ACL: json.RawMessage(`{"paths":{"/*/users/**":{"methods":["HEAD"]}}}`), MaxTTL: ttlSeconds(60)}, []string{"acl.paths./*/users/**.methods[0]"}},
		{"no paths", "agent", auth.PolicyInput{ACL: json.RawMessage(`{"paths":{}}`), MaxTTL: ttlSeconds(60)}, []string{"acl.paths"}},
		{"a pattern with a space", "agent", auth.PolicyInput{ACL: json.RawMessage(`{"paths":{"/*/users /**":{}}}`), MaxTTL: ttlSeconds(60)}, []string{"acl.paths./*/users /**"}},
		{"acl not an object", "agent", auth.PolicyInput{ACL: json.RawMessage(`"all"`), MaxTTL: ttlSeconds(60)}, []string{"acl"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := p.Put(ctx, tc.policy, tc.in)
			if sdkauth.ErrorCode(err) != sdkauth.CodeValidation || !slices.Equal(fieldNames(err), tc.fields) {
				t.Fatalf("got %v naming %v, want %v", err, fieldNames(err), tc.fields)
			}
		})
	}
	if list, err := p.List(ctx); err != nil || len(list) != 1 || list[0].Name != auth.ClientSDK {
		t.Fatalf("a refused Put stored something: %v %v", list, err)
	}
}

func TestPolicyChangesApplyFromTheNextTokenAndDeleteIsGuarded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	p := auth.NewPolicies(pool, 15*time.Minute, time.Hour, nil)
	if _, _, err := p.Put(ctx, "agent", auth.PolicyInput{ACL: json.RawMessage(readOnlyACL), MaxTTL: ttlSeconds(3600)}); err != nil {
		t.Fatal(err)
	}
	user := newUser(t, pool, true)
	if err := p.SetUserPolicy(ctx, user, "agent"); err != nil {
		t.Fatal(err)
	}
	if row, _ := db.New(pool).GetUser(ctx, user); row.Policy != "agent" {
		t.Fatalf("the user is on %q", row.Policy)
	}
	if _, created, err := p.Put(ctx, "agent", auth.PolicyInput{ACL: json.RawMessage(`{"paths":{"/*/users/**":{}}}`), MaxTTL: ttlSeconds(600)}); err != nil || created {
		t.Fatalf("replacing: %v %v", created, err)
	}
	if pol, _ := p.Get(ctx, "agent"); pol.MaxTTL != 10*time.Minute || !slices.Equal(slices.Collect(maps.Keys(pol.ACL.Paths)), []string{"/*/users/**"}) {
		t.Fatalf("the next read does not see the change: %+v", pol)
	}

	if err := p.SetUserPolicy(ctx, user, "nobody-made-this"); !slices.Equal(fieldNames(err), []string{"policy"}) {
		t.Fatalf("an unknown policy: %v", err)
	}
	if err := p.SetUserPolicy(ctx, uuid.New(), "agent"); sdkauth.ErrorCode(err) != sdkauth.CodeNotFound {
		t.Fatalf("an unknown user: %v", err)
	}
	if err := p.Delete(ctx, "agent"); sdkauth.ErrorCode(err) != sdkauth.CodePolicyInUse {
		t.Fatalf("deleting a policy in use: %v", err)
	}
	if err := p.Delete(ctx, auth.ClientSDK); sdkauth.ErrorCode(err) != sdkauth.CodeValidation {
		t.Fatalf("deleting the built-in policy: %v", err)
	}
	if err := p.SetUserPolicy(ctx, user, auth.ClientSDK); err != nil {
		t.Fatal(err)
	}
	if err := p.Delete(ctx, "agent"); err != nil {
		t.Fatalf("deleting an unused policy: %v", err)
	}
	if err := p.Delete(ctx, "agent"); sdkauth.ErrorCode(err) != sdkauth.CodeNotFound {
		t.Fatalf("deleting it again: %v", err)
	}
	pol, err := p.Get(ctx, auth.ClientSDK)
	if err != nil || !pol.BuiltIn || pol.MaxTTL != time.Hour || len(pol.ACL.Paths) != 11 {
		t.Fatalf("client-sdk: %+v %v", pol, err)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
