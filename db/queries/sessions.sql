-- name: CreateSession :exec
INSERT INTO sessions (id, user_id, expires_at, ip, user_agent)
VALUES ($1, $2, $3, $4, $5);

-- name: CreateRefreshToken :exec
INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2);

-- name: LockRefreshToken :one
-- LockRefreshToken finds a refresh token with its session and user and
-- locks the token row, so that concurrent rotations of one token serialise.
SELECT t.session_id, t.rotated_at, s.refreshed_at, s.expires_at, s.revoked_at,
       sqlc.embed(u), now()::timestamptz AS now
FROM refresh_tokens t
JOIN sessions s ON s.id = t.session_id
JOIN users u ON u.id = s.user_id
WHERE t.token_hash = $1
FOR UPDATE OF t;

-- name: MarkRefreshTokenRotated :exec
UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1 AND rotated_at IS NULL;

-- name: TouchSession :exec
UPDATE sessions SET refreshed_at = now() WHERE id = $1;

-- name: RevokeSession :exec
UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL;

-- name: RevokeSessionByRefreshToken :one
-- RevokeSessionByRefreshToken ends the session that any of its refresh
-- tokens (current or rotated) belongs to.
UPDATE sessions s
SET revoked_at = now()
FROM refresh_tokens t
WHERE t.token_hash = @token_hash AND s.id = t.session_id AND s.revoked_at IS NULL
RETURNING s.id, s.user_id;

-- name: RevokeUserSessions :execrows
UPDATE sessions SET revoked_at = now() WHERE user_id = @user_id AND revoked_at IS NULL;

-- name: RevokeUserTokensBefore :exec
-- RevokeUserTokensBefore makes sdkauth refuse the user's access tokens
-- issued before the current second (iat has whole seconds, so tokens issued
-- later in this second, such as the ones a password change returns, live).
UPDATE users SET tokens_valid_after = date_trunc('second', now()) WHERE id = @id;

-- name: SweepSessions :execrows
-- SweepSessions deletes sessions that can no longer be used and have been
-- dead for a day; their tokens go with them (ON DELETE CASCADE).
DELETE FROM sessions
WHERE expires_at < now() - interval '1 day'
   OR revoked_at < now() - interval '1 day'
   OR refreshed_at < now() - make_interval(secs => @idle_seconds::float8) - interval '1 day';
