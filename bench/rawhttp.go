package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// rawTimeout bounds one request, as newHTTPClient's Timeout does.
const rawTimeout = 30 * time.Second

// maxRawBody bounds an answer's body: token answers are a few KiB.
const maxRawBody = 1 << 20

// rawClient POSTs form bodies to one URL over a single HTTP/1.1 keep-alive
// connection, for one goroutine. net/http costs the load generator about
// 0.1 ms of CPU per request (header maps, the transport's goroutines and
// channels, allocations), taken from the server it measures since they
// share the cores; this costs little more than the write and the read, as
// wrk does. It speaks only what sdkauth answers: Content-Length or chunked
// bodies, keep-alive or Connection: close.
type rawClient struct {
	url  string // for errors
	addr string // host:port to dial
	head []byte // the request up to the Content-Length value
	req  []byte // the request being sent, reused
	body []byte // the last answer's body, reused

	conn   net.Conn // nil when none is open
	br     *bufio.Reader
	reused bool // conn has answered before, so it may have gone stale

	// ctx is the context watched for conn: its ending closes conn (see
	// watch); stop undoes that.
	ctx  context.Context
	stop func() bool
}

// newRawClient returns a client for POSTs to rawURL (http only) carrying
// header, whole "Name: value" lines without line ends, on every request.
// It sends the User-Agent net/http sends, since sdkauth records it.
func newRawClient(rawURL string, header ...string) (*rawClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("%s: only http://host URLs are supported", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	head := fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Go-http-client/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n", u.RequestURI(), u.Host)
	for _, h := range header {
		head = append(append(head, h...), "\r\n"...)
	}
	head = append(head, "Content-Length: "...)
	return &rawClient{url: rawURL, addr: addr, head: head}, nil
}

// post sends the concatenation of body, given in parts so that callers need
// not concatenate, and returns the status and the body of the answer. The
// body is valid until the next call.
//
// ctx ending closes the connection, which unblocks a request in flight and
// releases the connection when a phase ends. It is watched once per
// context, not per request, so ctx should live across calls (a phase's).
func (c *rawClient) post(ctx context.Context, body ...string) (int, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	n := 0
	for _, p := range body {
		n += len(p)
	}
	c.req = strconv.AppendInt(append(c.req[:0], c.head...), int64(n), 10)
	c.req = append(c.req, "\r\n\r\n"...)
	for _, p := range body {
		c.req = append(c.req, p...)
	}
	for retried := false; ; retried = true {
		if err := c.ready(ctx); err != nil {
			return 0, nil, c.fail(ctx, err)
		}
		reused := c.reused
		status, closing, err := c.roundTrip()
		if err == nil {
			c.reused = true
			if closing {
				c.close()
			}
			return status, c.body, nil
		}
		c.close()
		// A reused connection the server closed while idle fails before
		// the answer's first byte; the server never read the request, so
		// it is sent again on a new connection, as net/http does.
		if reused && !retried && ctx.Err() == nil && errors.Is(err, errStale) {
			continue
		}
		return 0, nil, c.fail(ctx, err)
	}
}

// fail describes err as net/http would: the context's error when it ended.
func (c *rawClient) fail(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		err = ctxErr
	}
	return fmt.Errorf("post %s: %w", c.url, err)
}

// ready dials when no connection is open, watches ctx, and sets the
// request's deadline.
func (c *rawClient) ready(ctx context.Context) error {
	if c.conn != nil && c.ctx != ctx && !c.stop() {
		// The previous context ended and closed the connection.
		c.close()
	}
	if c.conn == nil {
		conn, err := (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return err
		}
		c.conn, c.reused, c.ctx = conn, false, nil
		if c.br == nil {
			c.br = bufio.NewReaderSize(conn, 4096)
		} else {
			c.br.Reset(conn)
		}
	}
	if c.ctx != ctx {
		c.watch(ctx)
	}
	deadline := time.Now().Add(rawTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	return c.conn.SetDeadline(deadline)
}

// watch makes ctx ending close the connection. Closing rather than setting
// a past deadline also frees the connection at the end of a phase, whose
// workers are then dropped.
func (c *rawClient) watch(ctx context.Context) {
	conn := c.conn
	c.ctx = ctx
	c.stop = context.AfterFunc(ctx, func() { conn.Close() })
}

// close closes the connection, if any; the next post dials again.
func (c *rawClient) close() {
	if c.conn == nil {
		return
	}
	c.stop()
	c.conn.Close()
	c.conn, c.ctx, c.stop = nil, nil, nil
}

// errStale marks a connection that ended before the answer's first byte.
var errStale = errors.New("connection closed before the answer")

// roundTrip writes the request in one call and reads the answer's status
// and body, the latter into c.body. closing reports that the connection
// cannot carry another request.
func (c *rawClient) roundTrip() (status int, closing bool, err error) {
	if _, err := c.conn.Write(c.req); err != nil {
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
			err = fmt.Errorf("%w: %w", errStale, err)
		}
		return 0, false, err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		if len(line) == 0 && (err == io.EOF || errors.Is(err, syscall.ECONNRESET)) {
			err = fmt.Errorf("%w: %w", errStale, err)
		}
		return 0, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' {
		return 0, false, fmt.Errorf("malformed status line %q", line)
	}
	closing = line[7] == '0' // HTTP/1.0 closes unless it says keep-alive
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return 0, false, fmt.Errorf("malformed status line %q", line)
		}
		status = status*10 + int(d-'0')
	}
	if status < 200 {
		return 0, false, fmt.Errorf("unexpected informational answer %q", line)
	}
	length, chunked := -1, false
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, false, fmt.Errorf("reading the header: %w", err)
		}
		line = trimSpace(line)
		if len(line) == 0 {
			break
		}
		colon := 0
		for colon < len(line) && line[colon] != ':' {
			colon++
		}
		if colon == len(line) {
			return 0, false, fmt.Errorf("malformed header line %q", line)
		}
		name, value := line[:colon], trimSpace(line[colon+1:])
		switch {
		case equalFold(name, "content-length"):
			if length, err = parseLength(value, 10); err != nil {
				return 0, false, err
			}
		case equalFold(name, "transfer-encoding"):
			chunked = hasToken(value, "chunked")
		case equalFold(name, "connection"):
			if hasToken(value, "close") {
				closing = true
			} else if hasToken(value, "keep-alive") {
				closing = false
			}
		}
	}
	c.body = c.body[:0]
	switch {
	case status == 204 || status == 304:
	case chunked:
		err = c.readChunked()
	case length >= 0:
		c.body = slices.Grow(c.body, length)[:length]
		_, err = io.ReadFull(c.br, c.body)
	default:
		// Delimited by the end of the connection.
		closing = true
		err = c.readToEOF()
	}
	return status, closing, err
}

// readChunked appends a chunked body to c.body and skips any trailer.
func (c *rawClient) readChunked() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("reading a chunk size: %w", err)
		}
		line = trimSpace(line)
		for i, b := range line {
			if b == ';' { // a chunk extension
				line = trimSpace(line[:i])
				break
			}
		}
		size, err := parseLength(line, 16)
		if err != nil {
			return err
		}
		if size == 0 {
			for {
				line, err := c.br.ReadSlice('\n')
				if err != nil {
					return fmt.Errorf("reading the trailer: %w", err)
				}
				if len(trimSpace(line)) == 0 {
					return nil
				}
			}
		}
		if len(c.body)+size > maxRawBody {
			return fmt.Errorf("body over %d bytes", maxRawBody)
		}
		n := len(c.body)
		c.body = slices.Grow(c.body, size)[:n+size]
		if _, err := io.ReadFull(c.br, c.body[n:]); err != nil {
			return err
		}
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("reading a chunk end: %w", err)
		}
		if len(trimSpace(line)) != 0 {
			return fmt.Errorf("malformed chunk end %q", line)
		}
	}
}

// readToEOF appends the rest of the connection to c.body.
func (c *rawClient) readToEOF() error {
	for {
		if len(c.body) >= maxRawBody {
			return fmt.Errorf("body over %d bytes", maxRawBody)
		}
		c.body = slices.Grow(c.body, 4096)
		n, err := c.br.Read(c.body[len(c.body):cap(c.body)])
		c.body = c.body[:len(c.body)+n]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// parseLength parses a Content-Length (base 10) or a chunk size (base 16)
// without converting to a string.
func parseLength(b []byte, base int) (int, error) {
	if len(b) == 0 {
		return 0, fmt.Errorf("empty length")
	}
	n := 0
	for _, d := range b {
		var v int
		switch {
		case '0' <= d && d <= '9':
			v = int(d - '0')
		case base == 16 && 'a' <= d|0x20 && d|0x20 <= 'f':
			v = int(d|0x20-'a') + 10
		default:
			return 0, fmt.Errorf("malformed length %q", b)
		}
		n = n*base + v
		if n > maxRawBody {
			return 0, fmt.Errorf("length %q over %d bytes", b, maxRawBody)
		}
	}
	return n, nil
}

// hasToken reports whether the comma-separated list v holds token, ignoring
// case.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if equalFold(trimSpace(v[:i]), token) {
			return true
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return false
}

// equalFold reports whether b is s, ignoring ASCII case; s is lower case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// trimSpace trims spaces, tabs and line ends.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r' || b[len(b)-1] == '\n') {
		b = b[:len(b)-1]
	}
	return b
}
