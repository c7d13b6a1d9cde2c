// Package migrations holds the numbered SQL migrations, embedded into the
// binary. Each runs in its own transaction (goose's default).
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
