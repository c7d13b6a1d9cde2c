package users_test

import (
	"strings"
	"testing"

	"github.com/sdkauth/sdkauth/users"
)

func TestPasswordPolicy(t *testing.T) {
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
		{"1024 bytes exactly", strings.Repeat("q", 1024), "new-user", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fe := users.ValidatePassword("password", tc.password, tc.username)
			switch {
			case tc.reason == "" && fe != nil:
				t.Fatalf("refused: %s", fe.Reason)
			case tc.reason != "" && (fe == nil || !strings.Contains(fe.Reason, tc.reason) || fe.Name != "password"):
				t.Fatalf("got %+v, want a reason containing %q", fe, tc.reason)
			}
		})
	}
}
