package api_test

import (
	"testing"

	"github.com/sdkauth/sdkauth/internal/nodetest"
	"github.com/sdkauth/sdkauth/keys"
)

// TestClientSDKChatsWithSdkauthTokens runs the real Vonage Client SDK for
// JavaScript (interop/clientsdk.test.mjs, pinned by its lockfile) against
// sdkauth and the emulator: sessions opened with sdkauth's tokens, a text
// from one user raised as a conversationEvent at the other, and refused
// tokens that never yield a session.
func TestClientSDKChatsWithSdkauthTokens(t *testing.T) {
	t.Parallel()
	nodetest.Install(t, "../interop")
	s := newStack(t, nil)
	nodetest.Run(t, "../interop", map[string]string{
		"SDKAUTH_URL":           s.URL,
		"EMULATOR_URL":          s.EmURL,
		"VONAGE_APPLICATION_ID": s.AppID,
		"VONAGE_PRIVATE_KEY":    string(keys.EncodePrivateKeyPEM(s.Key)),
	}, "clientsdk.test.mjs")
}
