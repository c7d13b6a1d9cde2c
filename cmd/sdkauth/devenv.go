package main

import (
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sdkauth/sdkauth/keys"
)

// writeDevEnv writes the environment of a dev run to path (mode 0600), as
// the shell's export lines, so that every sdkauth command works against the
// run after `source path`. key, when not nil, goes to a key file beside it
// (path without .env, plus .key; mode 0600) that VONAGE_PRIVATE_KEY_PATH
// names; otherwise the environment's VONAGE_PRIVATE_KEY_PATH is named, if
// any. remove deletes what was written. It returns the file system's error,
// having written nothing.
func writeDevEnv(path string, cfg config, key *rsa.PrivateKey) (remove func(), err error) {
	var written []string
	remove = func() {
		for _, p := range written {
			_ = os.Remove(p)
		}
	}
	defer func() {
		if err != nil {
			remove()
		}
	}()
	keyPath := cfg.PrivateKeyPath
	if key != nil {
		keyPath = strings.TrimSuffix(path, ".env") + ".key"
		if err := writeKeyFile(keyPath, keys.EncodePrivateKeyPEM(key), 0o600, true); err != nil {
			return remove, err
		}
		written = append(written, keyPath)
	}
	vars := [][2]string{
		{"DATABASE_URL", cfg.DatabaseURL},
		{"SDKAUTH_KEY_ENCRYPTION_KEY", base64.StdEncoding.EncodeToString(cfg.KeyEncryptionKey)},
		{"VONAGE_APPLICATION_ID", cfg.ApplicationID},
		{"VONAGE_API_URL", cfg.VonageAPIURL},
		{"VONAGE_API_KEY", cfg.VonageAPIKey},
		{"VONAGE_API_SECRET", cfg.VonageAPISecret},
	}
	if keyPath != "" {
		if keyPath, err = filepath.Abs(keyPath); err != nil {
			return remove, err
		}
		vars = append(vars, [2]string{"VONAGE_PRIVATE_KEY_PATH", keyPath})
	}
	var b strings.Builder
	b.WriteString("# The environment of this `sdkauth dev` run for the sdkauth commands:\n# source it in another terminal. dev removes it when it stops.\n")
	for _, v := range vars {
		if v[1] != "" {
			fmt.Fprintf(&b, "export %s=%s\n", v[0], shellWord(v[1]))
		}
	}
	if keyPath == "" {
		b.WriteString("# No VONAGE_PRIVATE_KEY_PATH: the active key was stored by an earlier run, and this run has no file of it.\n")
	}
	if err := writeKeyFile(path, []byte(b.String()), 0o600, true); err != nil {
		return remove, err
	}
	written = append(written, path)
	return remove, nil
}
