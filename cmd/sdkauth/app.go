package main

import "github.com/sdkauth/sdkauth/internal/server"

// app is the wired service (internal/server) that `serve`, `dev` and
// `users reconcile` run.
type app = server.Server

// newApp wires the service from the configuration.
var newApp = server.New
