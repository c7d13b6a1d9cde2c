package server

import "time"

// Config is sdkauth's configuration, read from the environment (12-factor)
// by LoadConfig.
type Config struct {
	DatabaseURL      string
	Addr             string
	ApplicationID    string
	PrivateKeyPath   string
	PrivateKey       string
	VonageAPIURL     string
	VonageAPIKey     string
	VonageAPISecret  string
	TokenTTL         time.Duration
	TokenMaxTTL      time.Duration
	SessionIdle      time.Duration
	SessionMax       time.Duration
	RefreshGrace     time.Duration
	ProvisionTimeout time.Duration
	Argon2MemoryKiB  uint32
	Argon2Iterations uint32
	LogLevel         string
	Signer           string // SDKAUTH_SIGNER: auto, openssl or go (keys.SignerFunc)
	// KeyEncryptionKey (SDKAUTH_KEY_ENCRYPTION_KEY, 32 bytes in base64)
	// seals the stored private keys.
	KeyEncryptionKey []byte
	DefaultPolicy    string        // SDKAUTH_DEFAULT_POLICY: the policy of new users
	KeyPoll          time.Duration // SDKAUTH_KEY_POLL: how often replicas reload keys besides LISTEN/NOTIFY
	// LoginRatePerIP (SDKAUTH_LOGIN_RATE_PER_IP) is how many password checks
	// an IP may make a minute, with a burst of half that; 0 turns it off.
	LoginRatePerIP int
	// TrustedProxies (SDKAUTH_TRUSTED_PROXIES, comma-separated IPs or CIDRs)
	// are the peers whose X-Forwarded-For names the client; none by default.
	TrustedProxies []string

	// ProvisioningMaxAttempts (SDKAUTH_PROVISIONING_MAX_ATTEMPTS) is how
	// many attempts a provisioning job gets before it ends as failed.
	ProvisioningMaxAttempts int
	// AuditRetention (SDKAUTH_AUDIT_RETENTION) is how long audit_log rows
	// are kept before the sweeper deletes them.
	AuditRetention time.Duration
}
