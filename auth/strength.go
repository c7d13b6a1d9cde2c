package auth

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// MinPasswordScore is the zxcvbn score a new password must reach. Score 3
// means at least 10^8 estimated guesses: zxcvbn's "safely unguessable",
// out of reach of online guessing even unthrottled and costly offline
// against a slow hash such as our argon2id. It refuses what NIST SP 800-63B
// calls commonly used or compromised values, with the variants guessing
// tools try first (capitals, l33t, appended digits, years and symbols:
// "Password123!", "Summer2024"), and accepts passphrases of a few ordinary
// words ("correct horse battery"), which NIST favours over composition rules.
const MinPasswordScore = 3

// strengthRunes bounds zxcvbn's work: its matching grows with the cube of
// the length (a 1024-byte password takes seconds), and it runs before any
// rate limit. Only this many leading runes are scored; a password whose
// beginning is strong is strong, so the bound only ever refuses more.
const strengthRunes = 40

// serviceWords are context-specific words (NIST SP 800-63B) an attacker
// would try against this service.
var serviceWords = []string{"sdkauth", "vonage"}

// PasswordWeakness returns why password is too easy to guess, or "" when it
// scores at least MinPasswordScore. account names the words an attacker
// knows for this account (its username); each is also tried in the pieces
// between its punctuation. The reason names the kinds of pattern found,
// never the password or any part of it.
func PasswordWeakness(password string, account ...string) string {
	if utf8.RuneCountInString(password) > strengthRunes {
		password = string([]rune(password)[:strengthRunes])
	}
	r := zxcvbn.PasswordStrength(password, contextWords(account))
	if r.Score >= MinPasswordScore {
		return ""
	}
	var kinds []string
	for _, m := range r.Sequence {
		if k := patternKind(m); k != "" && !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	why := "is too easy to guess"
	if len(kinds) > 0 {
		why += ": it is built on " + strings.Join(kinds, " and ")
	}
	return why + "; a few unrelated words make a stronger password"
}

// patternKind words what zxcvbn matched, for a person choosing again.
func patternKind(m *match.Match) string {
	switch m.Pattern {
	case "dictionary":
		switch m.DictionaryName {
		case "passwords":
			return "a commonly used password"
		case "user_inputs":
			return "the username or the service's name"
		case "male_names", "female_names", "surnames":
			return "a common name"
		default:
			return "a common word"
		}
	case "spatial":
		return "a keyboard pattern"
	case "repeat":
		return "repeated characters"
	case "sequence":
		return "a sequence such as abc or 123"
	case "date", "regex":
		return "a date or year"
	}
	return "" // bruteforce: the random-looking rest, too short on its own
}

func contextWords(account []string) []string {
	words := append([]string(nil), serviceWords...)
	for _, a := range account {
		words = append(words, a)
		words = append(words, strings.FieldsFunc(a, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })...)
	}
	return words
}
