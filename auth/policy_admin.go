package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/db"
	"github.com/sdkauth/sdkauth/keys"
)

// Audit events of policy administration. Operators query on them; never
// rename one.
const (
	EventPolicyChanged     = "policy_changed"
	EventPolicyDeleted     = "policy_deleted"
	EventUserPolicyChanged = "user_policy_changed"
)

// policyName keeps names safe in a URL path and readable in logs.
var policyName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// PolicyInput is a policy as an admin sends it: the ACL as raw JSON (so it
// is checked as strictly as `sdkauth jwt --acl` checks it) and max_ttl in
// seconds.
type PolicyInput struct {
	ACL    json.RawMessage `json:"acl"`
	MaxTTL *int64          `json:"max_ttl"`
}

// Put creates or replaces the policy called name and says which it did.
// The change applies from the next token of every user on it.
// It returns a validation error naming every bad field (name, acl…,
// max_ttl), including for the built-in client-sdk, which cannot be changed.
func (p *Policies) Put(ctx context.Context, name string, in PolicyInput) (pol Policy, created bool, err error) {
	var bad []sdkauth.FieldError
	if fe := checkPolicyName(name); fe != nil {
		bad = append(bad, *fe)
	}
	var acl keys.ACL
	switch {
	case len(in.ACL) == 0 || string(in.ACL) == "null":
		bad = append(bad, sdkauth.FieldError{Name: "acl", Reason: "is required"})
	default:
		if acl, err = keys.ParseACL(in.ACL); err != nil {
			var ae *keys.ACLError
			if errors.As(err, &ae) {
				bad = append(bad, sdkauth.FieldError{Name: ae.Field, Reason: ae.Reason})
			} else {
				bad = append(bad, sdkauth.FieldError{Name: "acl", Reason: "must be an object like {\"paths\": {…}}"})
			}
		}
	}
	switch lo, hi := int64(keys.MinTTL/time.Second), int64(keys.MaxTTL/time.Second); {
	case in.MaxTTL == nil:
		bad = append(bad, sdkauth.FieldError{Name: "max_ttl", Reason: "is required"})
	case *in.MaxTTL < lo || *in.MaxTTL > hi:
		bad = append(bad, sdkauth.FieldError{Name: "max_ttl", Reason: fmt.Sprintf("must be between %d and %d seconds", lo, hi)})
	}
	if len(bad) > 0 {
		return Policy{}, false, sdkauth.Invalid(bad...)
	}
	stored, err := encodeACL(acl)
	if err != nil {
		return Policy{}, false, err
	}
	maxTTL := int32(*in.MaxTTL)
	err = db.WithTx(ctx, p.pool, func(q *db.Queries) error {
		n, err := q.InsertPolicy(ctx, db.InsertPolicyParams{Name: name, Acl: stored, MaxTtl: maxTTL})
		if err != nil {
			return err
		}
		created = n == 1
		if !created {
			if _, err := q.UpdatePolicy(ctx, db.UpdatePolicyParams{Name: name, Acl: stored, MaxTtl: maxTTL}); err != nil {
				return err
			}
		}
		return p.audit.RecordTx(ctx, q, Event{Type: EventPolicyChanged, Detail: fmt.Sprintf("policy=%s max_ttl=%d", name, maxTTL)})
	})
	if err != nil {
		return Policy{}, false, err
	}
	return Policy{Name: name, ACL: acl, MaxTTL: time.Duration(maxTTL) * time.Second}, created, nil
}

// Delete removes the policy called name. It returns CodeNotFound, a
// validation error naming name for client-sdk, or CodePolicyInUse while
// any user is on it (assign them another first).
func (p *Policies) Delete(ctx context.Context, name string) error {
	if name == ClientSDK {
		return errBuiltIn()
	}
	return db.WithTx(ctx, p.pool, func(q *db.Queries) error {
		n, err := q.DeletePolicy(ctx, name)
		if db.IsForeignKeyViolation(err) {
			return sdkauth.Errorf(sdkauth.CodePolicyInUse, "Users are still on policy %q; assign them another policy first.", name)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return sdkauth.Errorf(sdkauth.CodeNotFound, "No policy called %q.", name)
		}
		return p.audit.RecordTx(ctx, q, Event{Type: EventPolicyDeleted, Detail: "policy=" + name})
	})
}

// SetUserPolicy puts the user with id on the policy called name, from
// their next token on. It returns a validation error naming policy when
// no such policy exists, or CodeNotFound when no such user does.
func (p *Policies) SetUserPolicy(ctx context.Context, id uuid.UUID, name string) error {
	if err := p.CheckExists(ctx, "policy", name); err != nil {
		return err
	}
	return db.WithTx(ctx, p.pool, func(q *db.Queries) error {
		n, err := q.SetUserPolicy(ctx, db.SetUserPolicyParams{ID: id, Policy: name})
		if db.IsForeignKeyViolation(err) { // deleted since the check
			return noSuchPolicy("policy", name)
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return sdkauth.Errorf(sdkauth.CodeNotFound, "No such user.")
		}
		return p.audit.RecordTx(ctx, q, Event{Type: EventUserPolicyChanged, UserID: id, Detail: "policy=" + name})
	})
}

// CheckExists returns nil when a policy called name exists, else a
// validation error naming field (as a request calls it). Sign-up, admin
// user creation and start-up (for SDKAUTH_DEFAULT_POLICY) use it.
func (p *Policies) CheckExists(ctx context.Context, field, name string) error {
	_, err := p.Get(ctx, name)
	if sdkauth.ErrorCode(err) == sdkauth.CodeNotFound {
		return noSuchPolicy(field, name)
	}
	return err
}

func checkPolicyName(name string) *sdkauth.FieldError {
	switch {
	case name == ClientSDK:
		return &sdkauth.FieldError{Name: "name", Reason: "client-sdk is built in and cannot be changed; create another policy"}
	case !policyName.MatchString(name):
		return &sdkauth.FieldError{Name: "name", Reason: "must be 1 to 64 characters: lowercase letters, digits and . _ -, starting with a letter or digit"}
	}
	return nil
}

func errBuiltIn() error {
	return sdkauth.Invalid(sdkauth.FieldError{Name: "name", Reason: "client-sdk is built in and cannot be deleted"})
}

func noSuchPolicy(field, name string) error {
	return sdkauth.Invalid(sdkauth.FieldError{Name: field, Reason: fmt.Sprintf("no policy is called %q", name)})
}
