package auth

import "context"

// Client describes where a request came from, for session records and the
// audit log.
type Client struct {
	IP        string
	UserAgent string
	// Actor is the service client behind an admin request
	// ("client:<client_id>"); empty when users act for themselves.
	Actor string
}

type clientKey struct{}

// WithClient returns ctx carrying c, so that domain code deep in a request
// (throttling, auditing) knows the caller without every signature naming it.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFrom returns the Client that WithClient stored in ctx, or the zero
// Client (a command-line caller, say).
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// ActingAs returns ctx with the service client clientID as the actor
// ("client:<client_id>") of every audit row written under it: an admin API
// request or a console session acts as the client that authenticated it.
func ActingAs(ctx context.Context, clientID string) context.Context {
	from := ClientFrom(ctx)
	from.Actor = "client:" + clientID
	return WithClient(ctx, from)
}
