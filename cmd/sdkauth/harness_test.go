package main

import (
	"bytes"
	"context"
	"maps"
	"testing"

	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/internal/servertest"
	"github.com/sdkauth/sdkauth/keys"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// stack is an in-process sdkauth (internal/servertest) that can also run
// sdkauth command lines against its database.
type stack struct{ *servertest.Stack }

type response = servertest.Response

// newStack starts a stack; env overrides configuration variables.
func newStack(t testing.TB, env map[string]string) *stack {
	t.Helper()
	return &stack{servertest.New(t, env)}
}

// run executes an sdkauth command line in-process with the stack's database
// and application key in its environment, returning what it printed.
func (s *stack) run(args ...string) (string, error) {
	s.T.Helper()
	return s.runWith(nil, args...)
}

// runWith is run with more variables in the command's environment, which
// holds only the stack's: tests run commands side by side.
func (s *stack) runWith(env map[string]string, args ...string) (string, error) {
	s.T.Helper()
	vars := map[string]string{
		"DATABASE_URL":          s.DBURL,
		"VONAGE_APPLICATION_ID": s.AppID,
		"VONAGE_PRIVATE_KEY":    string(keys.EncodePrivateKeyPEM(s.Key)),
	}
	maps.Copy(vars, env)
	var out bytes.Buffer
	cmd := rootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(withEnv(context.Background(), func(k string) (string, bool) { v, ok := vars[k]; return v, ok }))
	return out.String(), err
}
