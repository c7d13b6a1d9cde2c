package auth_test

import (
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/auth"
)

func TestPasswordWeakness(t *testing.T) {
	t.Parallel()
	cases := []struct {
		password string
		account  []string
		weak     bool
	}{
		{"password123", nil, true},
		{"Password123!", nil, true},
		{"Summer2024", nil, true},
		{"iloveyou2024", nil, true},
		{"Tr0ub4dor&3x", []string{"new-user"}, false},
		{"correct horse battery", []string{"new-user"}, false},
		// The username, whole or in its pieces, is a word an attacker tries.
		{"gwendolyn.fairweather", []string{"gwendolyn.fairweather"}, true},
		{"Fairweather1984!", []string{"gwendolyn.fairweather@example.com"}, true},
		{"Fairweather1984!", []string{"new-user"}, false},
		{"Sdkauth2024!", nil, true},
	}
	for _, tc := range cases {
		why := auth.PasswordWeakness(tc.password, tc.account...)
		if (why != "") != tc.weak {
			t.Errorf("%q for %v: %q, want weak=%v", tc.password, tc.account, why, tc.weak)
		}
		if strings.Contains(strings.ToLower(why), strings.ToLower(tc.password)) {
			t.Errorf("the reason %q repeats the password", why)
		}
	}
}

// PasswordWeakness runs on every sign-up, admin create and password change,
// before the password is hashed. A typical password costs a fraction of a
// millisecond; the longest input it scores (strengthRunes, 40 runes), built
// to make its matchers work hardest, a few milliseconds: both small beside
// one argon2id hash (BenchmarkHashOWASP).
func BenchmarkPasswordWeakness(b *testing.B) {
	for _, bc := range []struct{ name, password string }{
		{"typical", "Summer2024!"},
		{"passphrase", benchPassword},
		{"40 runes", strings.Repeat("x7#Qm!2vLp", 4)},
		{"1024 bytes", strings.Repeat("x7#Qm!2vLp", 103)[:1024]},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				auth.PasswordWeakness(bc.password, "new-user")
			}
		})
	}
}
