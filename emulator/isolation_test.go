package emulator_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEmulatorSharesNoCodeWithSdkauth: the emulator checks tokens and ACLs on
// its own, as the platform does; a rule shared with keys/, auth/, users/ or
// api/ would let one bug pass on both sides.
func TestEmulatorSharesNoCodeWithSdkauth(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/sdkauth/sdkauth/") && dep != "github.com/sdkauth/sdkauth/emulator" {
			t.Errorf("the emulator depends on %s", dep)
		}
	}
}
