package sdkauth

import _ "embed"

// OpenAPI is the HTTP contract, served at /openapi.yaml and checked against
// real responses in the tests.
//
//go:embed openapi.yaml
var OpenAPI []byte
