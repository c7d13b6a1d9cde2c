package auth

import "context"

// Origin is where a request came from, for session records, throttling and
// the audit log.
type Origin struct {
	IP        string
	UserAgent string
	// Actor is the service client behind an admin request
	// ("client:<client_id>"); empty when users act for themselves.
	Actor string
}

type originKey struct{}

// WithOrigin returns ctx carrying o, so that domain code deep in a request
// (throttling, auditing) knows the caller without every signature naming it.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the Origin that WithOrigin stored in ctx, or the zero
// Origin (a command-line caller, say).
func OriginFrom(ctx context.Context) Origin {
	o, _ := ctx.Value(originKey{}).(Origin)
	return o
}

// ActingAs returns ctx with the service client clientID as the actor
// ("client:<client_id>") of every audit row written under it: an admin API
// request or a console session acts as the client that authenticated it.
func ActingAs(ctx context.Context, clientID string) context.Context {
	from := OriginFrom(ctx)
	from.Actor = "client:" + clientID
	return WithOrigin(ctx, from)
}
