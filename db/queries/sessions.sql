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
