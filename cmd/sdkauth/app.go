package main

import "github.com/sdkauth/sdkauth/internal/server"

// newApp wires the service from the configuration.
var newApp = server.New

// config is sdkauth's configuration, read from the environment.
type config = server.Config

// loadConfig reads and checks the configuration (server.LoadConfig).
var loadConfig = server.LoadConfig

// need says which settings a command must have.
type need = server.Need
