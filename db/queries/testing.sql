-- Statements only tests run. The Age* statements move stored times into the
-- past, which stands in for a clock that moves forward: the rules compare
-- those times with Postgres's now(), so a test ages its rows instead of
-- sleeping until a window passes.

-- name: AgeUserSessions :exec
-- AgeUserSessions moves every time stored for user_id's sessions and their
-- refresh tokens seconds into the past.
WITH aged AS (
    UPDATE sessions
    SET created_at   = created_at   - make_interval(secs => @seconds::float8),
        refreshed_at = refreshed_at - make_interval(secs => @seconds::float8),
        expires_at   = expires_at   - make_interval(secs => @seconds::float8),
        revoked_at   = revoked_at   - make_interval(secs => @seconds::float8)
    WHERE user_id = @user_id
    RETURNING id
)
UPDATE refresh_tokens
SET created_at = created_at - make_interval(secs => @seconds::float8),
    rotated_at = rotated_at - make_interval(secs => @seconds::float8)
WHERE session_id IN (SELECT id FROM aged);

-- name: AgeLoginFailures :exec
-- AgeLoginFailures moves key's last failure and lock seconds into the past.
UPDATE login_failures
SET last_failure_at = last_failure_at - make_interval(secs => @seconds::float8),
    locked_until    = locked_until    - make_interval(secs => @seconds::float8)
WHERE key = @key;
