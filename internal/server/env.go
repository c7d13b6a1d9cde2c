package server

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sdkauth/sdkauth/auth"
	"github.com/sdkauth/sdkauth/keys"
	"github.com/sdkauth/sdkauth/users"
)

// env reads variables, remembering every problem so that start-up reports
// them all at once.
type env struct {
	lookup func(string) (string, bool)
	errs   []string
}

func (e *env) str(name, def string) string {
	if v, ok := e.lookup(name); ok && v != "" {
		return v
	}
	if path, ok := e.lookup(name + "_FILE"); ok && path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s_FILE: %v", name, err))
			return def
		}
		return strings.TrimRight(string(b), "\r\n")
	}
	return def
}

func (e *env) duration(name string, def, lo, hi time.Duration) time.Duration {
	s := e.str(name, "")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		e.errs = append(e.errs, fmt.Sprintf("%s: %q is not a duration (Go syntax: 90s, 15m, 720h)", name, s))
		return def
	}
	if d < lo || d > hi {
		e.errs = append(e.errs, fmt.Sprintf("%s: %s is outside [%s, %s]", name, d, lo, hi))
		return def
	}
	return d
}

func (e *env) uint32(name string, def, lo, hi uint32) uint32 {
	s := e.str(name, "")
	if s == "" {
		return def
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || uint32(n) < lo || uint32(n) > hi {
		e.errs = append(e.errs, fmt.Sprintf("%s: %q must be an integer in [%d, %d]", name, s, lo, hi))
		return def
	}
	return uint32(n)
}

func (e *env) require(name, value string) {
	if value == "" {
		e.errs = append(e.errs, name+" is required")
	}
}

// proxies reads a comma-separated list of IPs and CIDRs.
func (e *env) proxies(name string) []string {
	var out []string
	for _, p := range strings.Split(e.str(name, ""), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			e.errs = append(e.errs, fmt.Sprintf("%s: %q is neither an IP address nor a CIDR range", name, p))
			continue
		}
		out = append(out, p)
	}
	return out
}

// Need says which settings a command must have.
type Need struct {
	Database bool
	// key: the application id and the encryption key of the stored keys.
	// A private key in the environment is needed only until one is stored.
	Key bool
	// vonageAPI: the API key and secret of the Applications API.
	VonageAPI bool
}

// LoadConfig reads the configuration from lookup (the environment, where
// every variable also has a NAME_FILE variant for secrets mounted as files)
// and checks it, returning one error listing every problem.
func LoadConfig(lookup func(string) (string, bool), n Need) (Config, error) {
	e := &env{lookup: lookup}
	c := Config{
		DatabaseURL:      e.str("DATABASE_URL", ""),
		Addr:             e.str("SDKAUTH_ADDR", ":8080"),
		ApplicationID:    e.str("VONAGE_APPLICATION_ID", ""),
		PrivateKeyPath:   e.str("VONAGE_PRIVATE_KEY_PATH", ""),
		PrivateKey:       e.str("VONAGE_PRIVATE_KEY", ""),
		VonageAPIURL:     strings.TrimRight(e.str("VONAGE_API_URL", "https://api.nexmo.com"), "/"),
		VonageAPIKey:     e.str("VONAGE_API_KEY", ""),
		VonageAPISecret:  e.str("VONAGE_API_SECRET", ""),
		TokenTTL:         e.duration("SDKAUTH_TOKEN_TTL", 15*time.Minute, 30*time.Second, 24*time.Hour),
		TokenMaxTTL:      e.duration("SDKAUTH_TOKEN_MAX_TTL", 24*time.Hour, 30*time.Second, 24*time.Hour),
		SessionIdle:      e.duration("SDKAUTH_SESSION_IDLE", 720*time.Hour, time.Minute, 10*365*24*time.Hour),
		SessionMax:       e.duration("SDKAUTH_SESSION_MAX", 2160*time.Hour, time.Minute, 10*365*24*time.Hour),
		RefreshGrace:     e.duration("SDKAUTH_REFRESH_GRACE", 10*time.Second, 0, time.Hour),
		ProvisionTimeout: e.duration("SDKAUTH_PROVISION_TIMEOUT", 2*time.Second, 100*time.Millisecond, time.Minute),
		Argon2MemoryKiB:  e.uint32("SDKAUTH_ARGON2_MEMORY_KIB", 19*1024, 64, 1<<20),
		Argon2Iterations: e.uint32("SDKAUTH_ARGON2_ITERATIONS", 2, 1, 16),
		LogLevel:         e.str("SDKAUTH_LOG_LEVEL", "info"),
		LoginRatePerIP:   int(e.uint32("SDKAUTH_LOGIN_RATE_PER_IP", 60, 0, 1_000_000)),
		TrustedProxies:   e.proxies("SDKAUTH_TRUSTED_PROXIES"),
		Signer:           e.str("SDKAUTH_SIGNER", keys.SignerAuto),
		KeyEncryptionKey: e.encryptionKey("SDKAUTH_KEY_ENCRYPTION_KEY"),
		DefaultPolicy:    e.str("SDKAUTH_DEFAULT_POLICY", auth.ClientSDK),
		KeyPoll:          e.duration("SDKAUTH_KEY_POLL", keys.DefaultPoll, 100*time.Millisecond, time.Hour),

		ProvisioningMaxAttempts: int(e.uint32("SDKAUTH_PROVISIONING_MAX_ATTEMPTS", users.DefaultMaxAttempts, 1, 1000)),
		AuditRetention:          e.duration("SDKAUTH_AUDIT_RETENTION", 2160*time.Hour, time.Hour, 100*365*24*time.Hour),
	}
	if n.Database {
		e.require("DATABASE_URL", c.DatabaseURL)
	}
	if n.Key {
		e.require("VONAGE_APPLICATION_ID", c.ApplicationID)
		if c.KeyEncryptionKey == nil && e.str("SDKAUTH_KEY_ENCRYPTION_KEY", "") == "" {
			e.errs = append(e.errs, "SDKAUTH_KEY_ENCRYPTION_KEY is required: 32 bytes in base64 (openssl rand -base64 32), the same on every replica")
		}
	}
	if n.VonageAPI && c.VonageAPIKey == "" && c.VonageAPISecret == "" {
		e.errs = append(e.errs, "VONAGE_API_KEY and VONAGE_API_SECRET are required (Vonage dashboard, API settings)")
	}
	if c.PrivateKeyPath != "" && c.PrivateKey != "" {
		e.errs = append(e.errs, "set only one of VONAGE_PRIVATE_KEY_PATH and VONAGE_PRIVATE_KEY")
	}
	if u, err := url.Parse(c.VonageAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		e.errs = append(e.errs, fmt.Sprintf("VONAGE_API_URL: %q is not an http(s) URL", c.VonageAPIURL))
	}
	if (c.VonageAPIKey == "") != (c.VonageAPISecret == "") {
		e.errs = append(e.errs, "set both VONAGE_API_KEY and VONAGE_API_SECRET, or neither")
	}
	if c.TokenTTL > c.TokenMaxTTL {
		e.errs = append(e.errs, "SDKAUTH_TOKEN_TTL must not exceed SDKAUTH_TOKEN_MAX_TTL")
	}
	if c.SessionIdle > c.SessionMax {
		e.errs = append(e.errs, "SDKAUTH_SESSION_IDLE must not exceed SDKAUTH_SESSION_MAX")
	}
	if !slices.Contains(keys.SignerModes, c.Signer) {
		e.errs = append(e.errs, fmt.Sprintf("SDKAUTH_SIGNER: %q must be auto, openssl or go", c.Signer))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		e.errs = append(e.errs, fmt.Sprintf("SDKAUTH_LOG_LEVEL: %q must be debug, info, warn or error", c.LogLevel))
	}
	if len(e.errs) > 0 {
		return c, errors.New("configuration problems:\n  - " + strings.Join(e.errs, "\n  - "))
	}
	return c, nil
}

// encryptionKey reads a base64 AES-256 key; the error never echoes it.
func (e *env) encryptionKey(name string) []byte {
	s := e.str(name, "")
	if s == "" {
		return nil
	}
	b, err := keys.ParseEncryptionKey(s)
	if err != nil {
		e.errs = append(e.errs, name+": "+err.Error())
		return nil
	}
	return b
}
