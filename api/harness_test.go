package api_test

import (
	"testing"

	"github.com/sdkauth/sdkauth/db/dbtest"
	"github.com/sdkauth/sdkauth/internal/servertest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// stack is an in-process sdkauth (internal/servertest) whose HTTP
// behaviour the tests here drive.
type stack struct{ *servertest.Stack }

type response = servertest.Response

// newStack starts a stack; env overrides configuration variables.
func newStack(t testing.TB, env map[string]string) *stack {
	t.Helper()
	return &stack{servertest.New(t, env)}
}
