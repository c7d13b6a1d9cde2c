package keys

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The token payload is built by hand rather than with encoding/json: it is
// on the hot path of every login and refresh, and reflection plus map
// sorting would cost more than everything but the RSA operation itself.
// The output is byte-for-byte what json.Marshal would produce for the same
// members in the same order (including its HTML-safe escaping), which the
// tests check.

// appendPayload appends the JWT claims set of c, members in the order
// application_id, iat, exp, jti, sub, acl; sub and acl only when set.
func appendPayload(dst []byte, c *Claims) ([]byte, error) {
	dst = append(dst, `{"application_id":`...)
	dst = appendJSONString(dst, c.ApplicationID)
	dst = append(dst, `,"iat":`...)
	dst = strconv.AppendInt(dst, c.IssuedAt.Unix(), 10)
	dst = append(dst, `,"exp":`...)
	dst = strconv.AppendInt(dst, c.ExpiresAt.Unix(), 10)
	dst = append(dst, `,"jti":`...)
	dst = appendJSONString(dst, c.ID)
	if c.Subject != "" {
		dst = append(dst, `,"sub":`...)
		dst = appendJSONString(dst, c.Subject)
	}
	if c.ACL != nil {
		dst = append(dst, `,"acl":`...)
		var err error
		if dst, err = appendACL(dst, c.ACL); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// defaultACLJSON is the encoding of DefaultACL, which nearly every user
// token carries.
var defaultACLJSON = func() []byte {
	a := DefaultACL()
	b, _ := appendACLSlow(nil, &a)
	return b
}()

func isDefaultACL(a *ACL) bool {
	if len(a.Paths) != len(defaultPaths) {
		return false
	}
	for _, p := range defaultPaths {
		r, ok := a.Paths[p]
		if !ok || len(r.Methods) != 0 || len(r.Filters) != 0 {
			return false
		}
	}
	return true
}

// appendACL appends a as {"paths":{...}} with the path keys sorted, as
// encoding/json orders map keys.
func appendACL(dst []byte, a *ACL) ([]byte, error) {
	if isDefaultACL(a) {
		return append(dst, defaultACLJSON...), nil
	}
	return appendACLSlow(dst, a)
}

func appendACLSlow(dst []byte, a *ACL) ([]byte, error) {
	if a.Paths == nil {
		return append(dst, `{"paths":null}`...), nil
	}
	// A stack array covers every realistic policy without allocating.
	var arr [16]string
	keys := arr[:0]
	for p := range a.Paths {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	dst = append(dst, `{"paths":{`...)
	for i, p := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, p)
		dst = append(dst, ':')
		r := a.Paths[p]
		dst = append(dst, '{')
		if len(r.Methods) > 0 {
			dst = append(dst, `"methods":[`...)
			for j, m := range r.Methods {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, m)
			}
			dst = append(dst, ']')
		}
		if len(r.Filters) > 0 {
			if len(r.Methods) > 0 {
				dst = append(dst, ',')
			}
			// Filters are free-form and rare; reflection is fine here.
			f, err := json.Marshal(r.Filters)
			if err != nil {
				return dst, err
			}
			dst = append(dst, `"filters":`...)
			dst = append(dst, f...)
		}
		dst = append(dst, '}')
	}
	return append(dst, "}}"...), nil
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the ASCII bytes encoding/json copies unescaped.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string exactly as encoding/json
// encodes it: HTML-sensitive and control characters as \u escapes, invalid
// UTF-8 as U+FFFD, and U+2028/U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
