// Package auth holds the credentials and records behind sdkauth's tokens,
// none of which needs to know a user's profile: password hashing and the
// password-strength rules, sessions and their rotating refresh tokens
// (rotations share commits through groupCommit), the named ACL policies and
// what a token may carry under one, service clients and their scopes, the
// per-IP login throttle, the audit log, admin-console sessions, and a
// request's Origin (IP, user agent, acting client).
package auth
