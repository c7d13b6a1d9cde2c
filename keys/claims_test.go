package keys

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

func testMinter(t testing.TB) *Minter {
	key, _ := testKeys(t)
	return &Minter{ApplicationID: testAppID, Signer: NewGoSigner(key), Now: nowFunc(fixedNow)}
}

func TestMinterClaimSets(t *testing.T) {
	t.Parallel()
	m := testMinter(t)
	readOnly := ACL{Paths: map[string]ACLRule{"/*/users/**": {Methods: []string{"GET"}}}}
	tests := []struct {
		name string
		mint func() (string, Claims, error)
		want []string
	}{
		{name: "user", mint: func() (string, Claims, error) { return m.UserToken("new-user", DefaultACL(), DefaultTTL) },
			want: []string{"acl", "application_id", "exp", "iat", "jti", "sub"}},
		{name: "admin", mint: func() (string, Claims, error) { return m.AdminToken(DefaultTTL, nil) },
			want: []string{"application_id", "exp", "iat", "jti"}},
		{name: "admin with acl", mint: func() (string, Claims, error) { return m.AdminToken(DefaultTTL, &readOnly) },
			want: []string{"acl", "application_id", "exp", "iat", "jti"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, c, err := tt.mint()
			if err != nil {
				t.Fatal(err)
			}
			got := decodeClaims(t, tok)
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, tt.want) {
				t.Fatalf("claims = %v, want exactly %v", keys, tt.want)
			}
			if got["application_id"] != testAppID || got["jti"] != c.ID {
				t.Fatalf("claims = %v, returned %+v", got, c)
			}
			if got["iat"] != float64(fixedNow.Unix()) || got["exp"] != float64(fixedNow.Unix()+900) {
				t.Fatalf("iat, exp = %v, %v", got["iat"], got["exp"])
			}
			if sub, ok := got["sub"]; ok && sub != "new-user" {
				t.Fatalf("sub = %v", sub)
			}
		})
	}
}

func TestMinterTimes(t *testing.T) {
	t.Parallel()
	m := testMinter(t)
	for _, ttl := range []time.Duration{MinTTL, DefaultTTL, time.Hour, MaxTTL, 90*time.Second + 700*time.Millisecond} {
		_, c, err := m.UserToken("new-user", DefaultACL(), ttl)
		if err != nil {
			t.Fatalf("ttl %v: %v", ttl, err)
		}
		if c.IssuedAt.After(fixedNow) {
			t.Fatalf("iat %v is after now %v", c.IssuedAt, fixedNow)
		}
		if c.IssuedAt.Unix() != fixedNow.Unix() || c.IssuedAt.Nanosecond() != 0 {
			t.Fatalf("iat = %v, want %v truncated to seconds", c.IssuedAt, fixedNow)
		}
		if got := c.ExpiresAt.Sub(c.IssuedAt); got != ttl.Truncate(time.Second) {
			t.Fatalf("exp-iat = %v, want %v", got, ttl.Truncate(time.Second))
		}
	}
}

func TestMinterTTLBounds(t *testing.T) {
	t.Parallel()
	m := testMinter(t)
	tests := []struct {
		ttl time.Duration
		ok  bool
	}{
		{0, false}, {-time.Minute, false}, {MinTTL - time.Second, false}, {MinTTL - time.Nanosecond, false},
		{MinTTL, true}, {MaxTTL, true}, {MaxTTL + time.Nanosecond, false}, {MaxTTL + time.Second, false}, {30 * 24 * time.Hour, false},
	}
	for _, tt := range tests {
		for kind, mint := range map[string]func() error{
			"user":  func() error { _, _, err := m.UserToken("new-user", DefaultACL(), tt.ttl); return err },
			"admin": func() error { _, _, err := m.AdminToken(tt.ttl, nil); return err },
		} {
			err := mint()
			if tt.ok {
				if err != nil {
					t.Errorf("%s ttl %v: unexpected error %v", kind, tt.ttl, err)
				}
				continue
			}
			var te *TTLError
			if !errors.As(err, &te) || te.TTL != tt.ttl || te.Min != MinTTL || te.Max != MaxTTL {
				t.Errorf("%s ttl %v: err = %#v, want *TTLError", kind, tt.ttl, err)
			}
		}
	}
}

func TestMinterJTI(t *testing.T) {
	t.Parallel()
	m := testMinter(t)
	seen := map[string]bool{}
	for range 50 {
		_, c, err := m.AdminToken(DefaultTTL, nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := uuid.Parse(c.ID)
		if err != nil {
			t.Fatalf("jti %q is not a UUID: %v", c.ID, err)
		}
		if id.Version() != 4 || id.Variant() != uuid.RFC4122 {
			t.Fatalf("jti %q is version %d variant %v, want v4 RFC 4122", c.ID, id.Version(), id.Variant())
		}
		if seen[c.ID] {
			t.Fatalf("jti %q repeated", c.ID)
		}
		seen[c.ID] = true
	}
}

func TestMinterRefusals(t *testing.T) {
	t.Parallel()
	m := testMinter(t)
	if _, _, err := m.UserToken("", DefaultACL(), DefaultTTL); !errors.Is(err, ErrEmptySubject) {
		t.Errorf("empty name: err = %v, want ErrEmptySubject", err)
	}
	var ae *ACLError
	if _, _, err := m.UserToken("new-user", ACL{}, DefaultTTL); !errors.As(err, &ae) {
		t.Errorf("empty ACL: err = %v, want *ACLError", err)
	}
	bad := ACL{Paths: map[string]ACLRule{"x": {}}}
	if _, _, err := m.AdminToken(DefaultTTL, &bad); !errors.As(err, &ae) {
		t.Errorf("admin with bad ACL: err = %v, want *ACLError", err)
	}
	noApp := *m
	noApp.ApplicationID = ""
	if _, _, err := noApp.AdminToken(DefaultTTL, nil); !errors.Is(err, ErrIncompleteClaims) {
		t.Errorf("no application id: err = %v, want ErrIncompleteClaims", err)
	}
}

func TestMinterDefaultClock(t *testing.T) {
	t.Parallel()
	m := testMinter(t)
	m.Now = nil
	before := time.Now()
	_, c, err := m.AdminToken(DefaultTTL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.IssuedAt.After(time.Now()) || c.IssuedAt.Before(before.Add(-time.Second)) {
		t.Fatalf("iat %v is not the current second (%v)", c.IssuedAt, before)
	}
}
