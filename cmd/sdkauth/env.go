package main

import (
	"context"
	"os"
)

// envKey carries, in a command's context, the environment its
// configuration is read from; tests run commands side by side, each with
// its own environment, rather than changing the process's.
type envKey struct{}

// withEnv returns ctx whose commands read their configuration through
// lookup instead of the process environment.
func withEnv(ctx context.Context, lookup func(string) (string, bool)) context.Context {
	return context.WithValue(ctx, envKey{}, lookup)
}

// envOf returns the lookup ctx carries (see withEnv), or os.LookupEnv.
func envOf(ctx context.Context) func(string) (string, bool) {
	if lookup, ok := ctx.Value(envKey{}).(func(string) (string, bool)); ok {
		return lookup
	}
	return os.LookupEnv
}

// getenv is os.Getenv through envOf(ctx).
func getenv(ctx context.Context, name string) string {
	v, _ := envOf(ctx)(name)
	return v
}
