package users_test

import (
	"context"
	"testing"

	"github.com/sdkauth/sdkauth"
	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/users"
)

// BenchmarkFailedLogin compares a failed login for a known user (wrong
// password) with one for an unknown user, with the production argon2id
// parameters and the throttle's database work included (its limits set so
// that they never refuse). The two should take the same time within noise:
//
//	go test -run '^$' -bench BenchmarkFailedLogin -count 5 ./users/
func BenchmarkFailedLogin(b *testing.B) {
	th := auth.DefaultThrottle(0)
	th.DelayAfter = 1 << 30
	e := newEnv(b, auth.OWASPParams, &th)
	ctx := context.Background()
	if _, err := e.svc.SignUp(ctx, users.SignUpInput{Username: "known-user", Password: "correct horse battery"}); err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"known-user", "unknown-user"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_, err := e.svc.Authenticate(ctx, name, "wrong password")
				if sdkauth.ErrorCode(err) != sdkauth.CodeInvalidCredentials {
					b.Fatalf("got %v", err)
				}
			}
		})
	}
}
