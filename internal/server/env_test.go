package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sdkauth/sdkauth/internal/server"
	"github.com/sdkauth/sdkauth/users"
)

// lookup reads variables from vars alone.
func lookup(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// The new settings are checked with every other one, and every problem is
// reported at once.
func TestJobAndRetentionSettingsAreReportedWithTheOthers(t *testing.T) {
	t.Parallel()
	cfg, err := server.LoadConfig(lookup(map[string]string{}), server.Need{})
	if err != nil || cfg.ProvisioningMaxAttempts != users.DefaultMaxAttempts || cfg.AuditRetention != 90*24*time.Hour {
		t.Fatalf("defaults: %d attempts, %s retention (%v)", cfg.ProvisioningMaxAttempts, cfg.AuditRetention, err)
	}
	cfg, err = server.LoadConfig(lookup(map[string]string{"SDKAUTH_PROVISIONING_MAX_ATTEMPTS": "5", "SDKAUTH_AUDIT_RETENTION": "720h"}), server.Need{})
	if err != nil || cfg.ProvisioningMaxAttempts != 5 || cfg.AuditRetention != 30*24*time.Hour {
		t.Fatalf("set: %d attempts, %s retention (%v)", cfg.ProvisioningMaxAttempts, cfg.AuditRetention, err)
	}
	_, err = server.LoadConfig(lookup(map[string]string{
		"SDKAUTH_PROVISIONING_MAX_ATTEMPTS": "0",
		"SDKAUTH_AUDIT_RETENTION":           "90d",
		"SDKAUTH_LOG_LEVEL":                 "loud",
	}), server.Need{})
	for _, want := range []string{"SDKAUTH_PROVISIONING_MAX_ATTEMPTS", "SDKAUTH_AUDIT_RETENTION: \"90d\" is not a duration", "SDKAUTH_LOG_LEVEL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("configuration error %v lacks %s", err, want)
		}
	}
}
