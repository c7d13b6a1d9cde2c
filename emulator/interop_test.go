package emulator_test

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/sdkauth/sdkauth/internal/nodetest"
)

// TestVonageConversationsPackage drives the emulator's Conversation API v1
// with Vonage's own server SDK, @vonage/conversations (interop/, pinned by its
// lockfile), over real HTTP.
func TestVonageConversationsPackage(t *testing.T) {
	t.Parallel()
	nodetest.Install(t, "../interop")
	e := newEnv(t)
	der, err := x509.MarshalPKCS8PrivateKey(e.key)
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Run(t, "../interop", map[string]string{
		"EMULATOR_URL":          e.srv.URL,
		"VONAGE_APPLICATION_ID": e.appID,
		"VONAGE_PRIVATE_KEY":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"USER_ID":               e.createUser("new-user"),
		"USER_NAME":             "new-user",
		"OTHER_USER_ID":         e.createUser("other-user"),
		"OTHER_USER_NAME":       "other-user",
	}, "conversations.test.mjs")
}
