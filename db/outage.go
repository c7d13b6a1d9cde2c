package db

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sdkauth/sdkauth"
)

// OutageRetryAfter is what an answer during a database outage tells clients
// to wait: Postgres that restarts is back within seconds, and a request that
// comes back in a second finds it (or a new primary) again.
const OutageRetryAfter = time.Second

// Outage recognises err as the database being out of reach, going away or
// refusing connections, and returns it as the domain's unavailable error (503
// with Retry-After; temporarily_unavailable on the token endpoint). It returns
// nil for every other error: a query's own failure stays what it is.
//
// Outages are: a connection that cannot be made (refused, reset, timed out,
// DNS), one that breaks mid-query (EOF, closed), a closed pool, and the
// SQLSTATEs of a server that is shutting down or full: class 08 (connection
// exceptions), 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
// cannot_connect_now and 53300 too_many_connections.
func Outage(err error) *sdkauth.Error {
	if err == nil || !isOutage(err) {
		return nil
	}
	return &sdkauth.Error{
		Code:       sdkauth.CodeUnavailable,
		Message:    "The service is briefly unavailable; retry shortly.",
		RetryAfter: OutageRetryAfter,
		Err:        err,
	}
}

func isOutage(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch c := pgErr.Code; {
		case strings.HasPrefix(c, "08"), c == "57P01", c == "57P02", c == "57P03", c == "53300":
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr),
		errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, pgconn.ErrConnClosed):
		return true
	}
	// pgxpool reports a closed pool with puddle's error, which it does not
	// export.
	return strings.Contains(err.Error(), "closed pool")
}
