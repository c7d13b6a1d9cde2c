package auth

import (
	_ "embed"
	"strings"
	"sync"
)

// commonPasswordList is the 10,000 most common passwords, lowercase, one a
// line (source and licence in common-passwords.NOTICE). NIST SP 800-63B asks
// verifiers to refuse passwords found in such lists.
//
//go:embed common-passwords.txt
var commonPasswordList string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 10000)
	for line := range strings.Lines(commonPasswordList) {
		if p := strings.TrimSpace(line); p != "" {
			set[p] = struct{}{}
		}
	}
	return set
})

// CommonPasswordCount is how many entries the embedded list holds.
func CommonPasswordCount() int { return len(commonPasswords()) }

// IsCommonPassword reports whether password, ignoring case, is one of the
// 10,000 most common passwords. Case is ignored because "Password1" is as
// guessable as "password1": guessing tools try both.
func IsCommonPassword(password string) bool {
	_, ok := commonPasswords()[strings.ToLower(password)]
	return ok
}
