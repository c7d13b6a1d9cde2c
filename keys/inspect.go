package keys

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Finding is the outcome of one check of a token.
type Finding struct {
	OK     bool
	Check  string
	Detail string
}

// Inspection is a decoded token and what each check found, for people
// debugging a token Vonage refuses (like `vonage jwt validate`).
type Inspection struct {
	Header   map[string]any
	Claims   map[string]any
	Findings []Finding
}

// Valid reports whether every check passed.
func (in Inspection) Valid() bool {
	for _, f := range in.Findings {
		if !f.OK {
			return false
		}
	}
	return true
}

func (in *Inspection) add(ok bool, check, format string, args ...any) {
	in.Findings = append(in.Findings, Finding{OK: ok, Check: check, Detail: fmt.Sprintf(format, args...)})
}

// Inspect decodes token and checks it against the rules Vonage applies, and
// sdkauth's own: RS256, no crit and no repeated member names,
// application_id, iat not in the future, exp not passed, a lifetime of at
// most 24 h, a jti, no nbf, and a well-formed acl. The signature is
// checked only when pub is given, application_id only when appID is.
// It returns an error only when the token cannot be decoded at all.
func Inspect(token string, pub *rsa.PublicKey, appID string, now time.Time) (Inspection, error) {
	var in Inspection
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return in, fmt.Errorf("a JWT has three dot-separated parts; this has %d", len(parts))
	}
	header, err := decodePart(parts[0], &in.Header)
	if err != nil {
		return in, fmt.Errorf("header: %w", err)
	}
	claims, err := decodePart(parts[1], &in.Claims)
	if err != nil {
		return in, fmt.Errorf("claims: %w", err)
	}
	// sdkauth refuses these before anything else (see checkSegments), and
	// the map above shows only one copy of a repeated member.
	if err := checkHeaderJSON(header); err != nil {
		in.add(false, "strict JSON", "%v", err)
	} else if err := checkClaimsJSON(claims); err != nil {
		in.add(false, "strict JSON", "%v", err)
	} else {
		in.add(true, "strict JSON", "no crit, no repeated member names")
	}
	alg, _ := in.Header["alg"].(string)
	in.add(alg == "RS256", "alg", "%q (Vonage accepts only RS256)", alg)
	if typ, ok := in.Header["typ"]; ok {
		in.add(typ == "JWT", "typ", "%v", typ)
	}

	app, _ := in.Claims["application_id"].(string)
	switch {
	case app == "":
		in.add(false, "application_id", "missing")
	case appID != "" && app != appID:
		in.add(false, "application_id", "%s, but the configured application is %s", app, appID)
	default:
		in.add(true, "application_id", "%s", app)
	}
	iat, iatOK := numericClaim(in.Claims, "iat")
	exp, expOK := numericClaim(in.Claims, "exp")
	switch {
	case !iatOK:
		in.add(false, "iat", "missing or not a number")
	case iat.After(now.Add(IssuedAtLeeway)):
		in.add(false, "iat", "%s is in the future", iat.UTC().Format(time.RFC3339))
	default:
		in.add(true, "iat", "%s", iat.UTC().Format(time.RFC3339))
	}
	switch {
	case !expOK:
		in.add(false, "exp", "missing or not a number")
	case !now.Before(exp):
		in.add(false, "exp", "expired at %s", exp.UTC().Format(time.RFC3339))
	default:
		in.add(true, "exp", "%s (in %s)", exp.UTC().Format(time.RFC3339), exp.Sub(now).Round(time.Second))
	}
	if iatOK && expOK {
		life := exp.Sub(iat)
		in.add(life > 0 && life <= MaxTTL, "lifetime", "%d s (Vonage allows at most 86400 s)", int64(life/time.Second))
	}
	jti, _ := in.Claims["jti"].(string)
	in.add(jti != "", "jti", "%q", jti)
	if _, ok := in.Claims["nbf"]; ok {
		in.add(false, "nbf", "present: Vonage has been reported to refuse tokens carrying nbf")
	}
	if sub, ok := in.Claims["sub"]; ok {
		s, isString := sub.(string)
		in.add(isString && s != "", "sub", "%v (a user token for this Vonage user name)", sub)
	}
	if raw, ok := in.Claims["acl"]; ok {
		b, _ := json.Marshal(raw)
		if _, err := ParseACL(b); err != nil {
			in.add(false, "acl", "%v", err)
		} else {
			in.add(true, "acl", "well-formed")
		}
	} else if _, user := in.Claims["sub"]; user {
		in.add(false, "acl", "missing: Vonage refuses a user token without an acl")
	}
	if pub == nil {
		in.add(true, "signature", "not checked (no key given)")
	} else {
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		sig, err := base64.RawURLEncoding.DecodeString(parts[2])
		if err == nil {
			err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
		}
		in.add(err == nil, "signature", "%s", map[bool]string{true: "verifies with the key " + Thumbprint(pub), false: "does not verify with the key " + Thumbprint(pub)}[err == nil])
	}
	return in, nil
}

// decodePart decodes one segment into v and returns its JSON.
func decodePart(part string, v any) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, errors.New("not a JSON object")
	}
	return b, nil
}

func numericClaim(claims map[string]any, name string) (time.Time, bool) {
	f, ok := claims[name].(float64)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
