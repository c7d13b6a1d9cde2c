// Package emulator is a stateful, strict, in-memory stand-in for the parts of the
// Vonage platform that sdkauth touches: the Applications API v2 and the Users API v1.
//
// It verifies every bearer JWT the way the platform does (RS256 only, signature
// against the application's current public key, claim and lifetime rules, user
// existence and ACL enforcement for user tokens) and keeps users per application.
// It shares no code with the rest of sdkauth on purpose: a shared bug would
// otherwise go unnoticed.
//
// For tests it offers run-time fault injection (latency, error statuses, 429 with
// Retry-After, hanging requests) and request statistics, both over HTTP under
// /_emulator/ and through Go methods.
package emulator
