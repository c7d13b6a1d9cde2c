package auth_test

import (
	"testing"

	"github.com/sdkauth/sdkauth/auth"
)

func TestCommonPasswords(t *testing.T) {
	t.Parallel()
	if n := auth.CommonPasswordCount(); n != 10000 {
		t.Fatalf("the list holds %d passwords, want 10000", n)
	}
	for _, p := range []string{"password", "PassWord", "12345678", "baseball", "trustno1", "iloveyou"} {
		if !auth.IsCommonPassword(p) {
			t.Errorf("%q is not found common", p)
		}
	}
	for _, p := range []string{"correct horse battery", "x7#Qm!2vLp", ""} {
		if auth.IsCommonPassword(p) {
			t.Errorf("%q is found common", p)
		}
	}
}
