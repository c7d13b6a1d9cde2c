// Package server assembles sdkauth from its parts: the configuration read
// from the environment (Config, LoadConfig), the services wired to Postgres and the Vonage platform (New),
// the key start-up policy and rotation (SigningKeys, RotateSigningKey),
// the cached admin token for the Users API, the background worker and
// sweepers (Accounts), and the HTTP server with its drain on shutdown
// (Serve). cmd/sdkauth keeps the flags and the commands.
package server
