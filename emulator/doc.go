// Package emulator is a stateful, strict, in-memory stand-in for the parts of
// the Vonage platform that sdkauth and the apps it serves touch: the
// Applications API v2, the Users API v1, the Conversation API (one model of
// conversations, members and numbered events, served as /v0.3 as the Client
// SDK calls it and as /v1 as the server SDKs call it) and Client SDK sessions
// (socket.io v4 over a WebSocket at /v2/rtc, on the same listener).
//
// It verifies every bearer JWT the way the platform does (RS256 only,
// signature against the application's current public key, claim and lifetime
// rules, user existence and ACL enforcement for user tokens), on REST calls
// and session handshakes alike, and pushes each conversation event to the
// sessions of the conversation's members in the order of its id. It shares no
// code with the rest of sdkauth on purpose: a shared bug would otherwise go
// unnoticed.
//
// For tests it offers run-time fault injection (latency, error statuses, 429
// with Retry-After, hanging requests) and request statistics, both over HTTP
// under /_emulator/ and through Go methods.
package emulator
