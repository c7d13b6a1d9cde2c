// Package keys holds what sdkauth needs to mint and check Vonage JWTs: loading
// the application's RSA private key, the Vonage claims and ACL types, the
// Signer that turns claims into compact RS256 tokens (in Go, or in OpenSSL's
// libcrypto, one cgo call a signature), the Ring and Store that hold the active
// and previous keys across rotations, the Verifier for tokens presented back
// to sdkauth, and the JWKS that publishes the public keys.
//
// The claims are exactly the ones Vonage documents and its own generators
// emit (application_id, iat, exp, jti, and for user tokens sub and acl); in
// particular no nbf is ever emitted, because Vonage has been reported to
// answer "invalid token" when it is present.
package keys
