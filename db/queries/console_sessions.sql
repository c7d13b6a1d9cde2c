-- name: CreateConsoleSession :exec
-- CreateConsoleSession starts a console session that ends, at the latest,
-- absolute_seconds from now by the database's clock (every replica shares it).
INSERT INTO console_sessions (token_hash, client_id, csrf_token, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => sqlc.arg(absolute_seconds)::float8));

-- name: ResumeConsoleSession :one
-- ResumeConsoleSession finds a live console session and touches it, in one
-- statement: not past expires_at, seen within the idle window, of a client
-- that still holds scope and whose secret has not been rotated since the
-- session began (a rotation ends what the old secret opened). Any other
-- token gets no row. Two requests of one browser touching the same row at
-- once serialise on its lock; both see it live.
UPDATE console_sessions s SET last_seen_at = now()
FROM service_clients c
WHERE s.token_hash = sqlc.arg(token_hash)
  AND c.id = s.client_id
  AND s.expires_at > now()
  AND s.last_seen_at > now() - make_interval(secs => sqlc.arg(idle_seconds)::float8)
  AND sqlc.arg(scope)::text = ANY (c.scopes)
  AND c.rotated_at <= s.created_at
RETURNING s.client_id, c.name AS client_name, c.scopes AS client_scopes, s.csrf_token, s.expires_at;

-- name: DeleteConsoleSession :execrows
DELETE FROM console_sessions WHERE token_hash = $1;

-- name: DeleteEndedConsoleSessions :execrows
-- DeleteEndedConsoleSessions removes sessions past either expiry; a
-- concurrent resume of one of them finds no row, as it would anyway.
DELETE FROM console_sessions
WHERE expires_at <= now()
   OR last_seen_at <= now() - make_interval(secs => sqlc.arg(idle_seconds)::float8);
