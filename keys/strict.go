package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// readClaims are the claim names Verify reads. encoding/json matches struct
// fields without regard to case, so a token carrying "SUB" or "Exp" would be
// read by sdkauth as "sub" or "exp" while any other verifier ignores it;
// checkClaimsJSON refuses such spellings.
var readClaims = []string{"application_id", "sub", "acl", "iat", "exp", "jti"}

// checkSegments applies checkHeaderJSON and checkClaimsJSON to the first
// two segments of a compact token, decoded as golang-jwt decodes them with
// strict decoding, so both read the same bytes.
func checkSegments(token string) error {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("token is malformed: %d segments, want 3", len(parts))
	}
	header, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	if err != nil {
		return errors.New("token is malformed: header is not base64url")
	}
	claims, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		return errors.New("token is malformed: claims are not base64url")
	}
	if err := checkHeaderJSON(header); err != nil {
		return err
	}
	return checkClaimsJSON(claims)
}

// checkHeaderJSON refuses a JOSE header that sdkauth must not act on even
// though it decodes: one that repeats a member name (decoders disagree on
// which copy wins) or that carries "crit". RFC 7515 §4.1.11 requires a
// verifier to refuse a token whose crit lists an extension it does not
// implement; sdkauth implements none, and a crit that is empty or not an
// array of strings is malformed, so any crit is refused.
func checkHeaderJSON(data []byte) error {
	names, err := memberNames(data)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if !names["crit"] {
		return nil
	}
	// Rare, so decoded again only to word the reason for the log.
	var top map[string]json.RawMessage
	_ = json.Unmarshal(data, &top)
	var exts []string
	switch err := json.Unmarshal(top["crit"], &exts); {
	case err != nil:
		return errors.New("header: crit is not an array of strings")
	case len(exts) == 0:
		return errors.New("header: crit is an empty array")
	default:
		return fmt.Errorf("header: crit lists extensions sdkauth does not implement: %q", exts)
	}
}

// checkClaimsJSON refuses a claims set that repeats a member name, or that
// spells a claim sdkauth reads in another case (see readClaims).
func checkClaimsJSON(data []byte) error {
	names, err := memberNames(data)
	if err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	for name := range names {
		for _, want := range readClaims {
			if name != want && strings.EqualFold(name, want) {
				return fmt.Errorf("claims: member %q differs from %q only in case", name, want)
			}
		}
	}
	return nil
}

// memberNames returns the member names of data, which must be one JSON
// object. It refuses a member name that appears twice in the same object
// at any depth (after unescaping, so "s\u0075b" repeats "sub"): RFC 7515 §4
// and RFC 7519 §4 let a parser reject such input, and reading the last
// copy, as encoding/json does, disagrees with verifiers that read the first.
func memberNames(data []byte) (map[string]bool, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	// One entry per open object or array: the names seen so far in an
	// object, nil for an array.
	var open []map[string]bool
	var top map[string]bool
	// expectName is whether the next string in the innermost object is a
	// member name rather than a value.
	expectName := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("not valid JSON")
		}
		inObject := len(open) > 0 && open[len(open)-1] != nil
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				open = append(open, map[string]bool{})
				if len(open) == 1 {
					top = open[0]
				}
				expectName = true
				continue
			case '[':
				open = append(open, nil)
				continue
			default: // '}' or ']' ends a value of the enclosing container
				open = open[:len(open)-1]
			}
		case string:
			if inObject && expectName {
				names := open[len(open)-1]
				if names[t] {
					return nil, fmt.Errorf("member %q appears twice in one object", t)
				}
				names[t] = true
				expectName = false
				continue
			}
		}
		if len(open) > 0 {
			// A value has ended; in an object, a name comes next.
			expectName = open[len(open)-1] != nil
			continue
		}
		switch _, err := dec.Token(); {
		case top == nil:
			return nil, errors.New("not a JSON object")
		case err != io.EOF:
			return nil, errors.New("not a single JSON value")
		}
		return top, nil
	}
}
