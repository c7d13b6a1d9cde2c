package users_test

import (
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/users"
)

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, password, username, reason string
	}{
		{"long enough and rare", "correct horse battery", "new-user", ""},
		{"seven characters", "Xq7#mL2", "new-user", "at least 8 characters"},
		{"eight characters counted as runes", "ééééééé", "new-user", "at least 8 characters"},
		{"over 1024 bytes", strings.Repeat("ab", 513), "new-user", "at most 1024 bytes"},
		{"the username", "New-User-1", "new-user-1", "must not be the username"},
		{"a common password", "baseball", "new-user", "10,000 most common"},
		{"a common password in capitals", "PASSWORD1", "new-user", "10,000 most common"},
		{"1024 bytes exactly", strings.Repeat("several unrelated words", 45)[:1024], "new-user", ""},
		{"a long passphrase is scored by its beginning", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "x7#Qm!2vLp-correct-horse", "new-user", "too easy to guess"},
		// NIST SP 800-63B's commonly used values, with the variants
		// guessing tools try first.
		{"a common password with digits", "password123", "new-user", "too easy to guess: it is built on a commonly used password"},
		{"with capitals, digits and a symbol", "Password123!", "new-user", "too easy to guess"},
		{"in l33t with a year", "P@ssw0rd2024", "new-user", "too easy to guess"},
		{"a word and a year", "Summer2024", "new-user", "too easy to guess"},
		{"a word, a year and a symbol", "Summer2024!", "new-user", "too easy to guess"},
		{"a name and digits", "Jennifer1990", "new-user", "a common name"},
		{"a keyboard walk", "qwertyuiop[]", "new-user", "a keyboard pattern"},
		{"a sequence", "abcdefgh12345678", "new-user", "too easy to guess"},
		{"the username with a year", "Acme-Owner2024", "acme-owner", "the username"},
		{"the service's name", "Vonage2024!", "new-user", "the username or the service's name"},
		{"a passphrase of ordinary words", "a different passphrase", "new-user", ""},
		{"random characters", "x7#Qm!2vLp", "new-user", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := users.ValidatePassword("password", tc.password, tc.username)
			switch {
			case tc.reason == "" && fe != nil:
				t.Fatalf("refused: %s", fe.Reason)
			case tc.reason != "" && (fe == nil || !strings.Contains(fe.Reason, tc.reason) || fe.Name != "password"):
				t.Fatalf("got %+v, want a reason containing %q", fe, tc.reason)
			case fe != nil && strings.Contains(strings.ToLower(fe.Reason), strings.ToLower(tc.password)):
				t.Fatalf("the reason %q repeats the password", fe.Reason)
			}
		})
	}
}
