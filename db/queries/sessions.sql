-- name: CreateSession :exec
INSERT INTO sessions (id, user_id, expires_at, ip, user_agent)
VALUES ($1, $2, $3, $4, $5);

-- name: CreateRefreshToken :exec
INSERT INTO refresh_tokens (token_hash, session_id) VALUES ($1, $2);

-- name: LockRefreshToken :one
-- LockRefreshToken finds a refresh token with its session, user and the
-- user's policy, and locks the token row, so that concurrent rotations of
-- one token serialise.
SELECT t.session_id, t.rotated_at, s.refreshed_at, s.expires_at, s.revoked_at,
       sqlc.embed(u), sqlc.embed(p), now()::timestamptz AS now
FROM refresh_tokens t
JOIN sessions s ON s.id = t.session_id
JOIN users u ON u.id = s.user_id
JOIN policies p ON p.name = u.policy
WHERE t.token_hash = $1
FOR UPDATE OF t;

-- name: RotateFreshRefreshTokens :many
-- RotateFreshRefreshTokens is the common refresh of every request arriving
-- at the same moment, in one statement without an explicit transaction:
-- one round trip, one plan and one commit for the group. Each asked token
-- (its position in token_hashes is its ord, from 1) that is not yet
-- rotated, in a live session (not revoked, not past expires_at, refreshed
-- within the idle window), of a user who is neither disabled nor waiting
-- for (or failed at) provisioning, is marked rotated; the next_hash at the
-- same position is stored in the same session, the session is touched and,
-- when audit is true, the refresh is recorded as Audit.RecordTx would, with
-- the ip, user_agent and actor at that position. It returns one row per
-- rotated token; any other token gets no row and nothing changes for it,
-- leaving the caller's transaction to work out why (grace, reuse, pending,
-- invalid). A token asked for twice rotates once, for its first position.
-- A concurrent rotation of the same token waits on the row lock, then
-- re-reads the row as rotated and gets no row either.
--
-- refresh_tokens is written once (the conflict rotates the presented token,
-- the insert stores the next one) because CockroachDB refuses a statement
-- that modifies one table twice unless every modification is a plain INSERT.
-- next_hash is 256 random bits, so the presented token is the only row that
-- can conflict. Tokens are locked in token_hash order, the order concurrent
-- groups of other replicas lock them in too; a token locked in a dead
-- session stays as it is.
WITH asked AS (
    SELECT DISTINCT ON (token_hash)
           (@token_hashes::bytea[])[i] AS token_hash, (@next_hashes::bytea[])[i] AS next_hash,
           (@ips::text[])[i] AS ip, (@user_agents::text[])[i] AS user_agent, (@actors::text[])[i] AS actor,
           i::int AS ord
    FROM generate_subscripts(@token_hashes::bytea[], 1) AS i
    ORDER BY token_hash, i
), presented AS MATERIALIZED (
    -- Found through the primary key alone, so the plan stays an index
    -- lookup per token whatever the planner believes about the tables.
    SELECT t.token_hash, t.session_id
    FROM refresh_tokens t
    WHERE t.token_hash = ANY(@token_hashes::bytea[])
      AND t.rotated_at IS NULL
    ORDER BY t.token_hash
    FOR UPDATE
), live AS (
    SELECT asked.ord, asked.token_hash, asked.next_hash, asked.ip, asked.user_agent, asked.actor,
           t.session_id, u.id AS user_id, u.username
    FROM presented t
    JOIN asked ON asked.token_hash = t.token_hash
    JOIN sessions s ON s.id = t.session_id
    JOIN users u ON u.id = s.user_id
    WHERE s.revoked_at IS NULL
      AND now() < s.expires_at
      AND now() < s.refreshed_at + make_interval(secs => @idle_seconds::float8)
      AND NOT u.disabled
      AND u.provisioning NOT IN ('pending', 'failed')
), rotated AS (
    INSERT INTO refresh_tokens (token_hash, session_id)
    SELECT h.token_hash, live.session_id
    FROM live CROSS JOIN LATERAL (VALUES (live.token_hash), (live.next_hash)) AS h (token_hash)
    ON CONFLICT (token_hash) DO UPDATE SET rotated_at = now()
), touched AS (
    -- refreshed_on changes once a day, so the update stays HOT (00011).
    UPDATE sessions SET refreshed_at = now(), refreshed_on = (now() AT TIME ZONE 'UTC')::date
    FROM live
    WHERE sessions.id = live.session_id
), audited AS (
    INSERT INTO audit_log (event, user_id, username, session_id, ip, user_agent, actor)
    SELECT @event::text, live.user_id, live.username, live.session_id, live.ip, live.user_agent, live.actor
    FROM live
    WHERE @audit::boolean
)
SELECT live.ord, live.session_id, sqlc.embed(u), sqlc.embed(p)
FROM live
JOIN users u ON u.id = live.user_id
JOIN policies p ON p.name = u.policy;

-- name: MarkRefreshTokenRotated :exec
UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1 AND rotated_at IS NULL;

-- name: TouchSession :exec
UPDATE sessions SET refreshed_at = now(), refreshed_on = (now() AT TIME ZONE 'UTC')::date WHERE id = $1;

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
-- dead for a day; their tokens go with them (ON DELETE CASCADE). Each of
-- the three tests has an index (the idle one on refreshed_on, the day of
-- refreshed_at), so the sweep reads the dead sessions, not the table.
DELETE FROM sessions
WHERE expires_at < now() - interval '1 day'
   OR revoked_at < now() - interval '1 day'
   OR (refreshed_on <= ((now() - make_interval(secs => @idle_seconds::float8) - interval '1 day') AT TIME ZONE 'UTC')::date
       AND refreshed_at < now() - make_interval(secs => @idle_seconds::float8) - interval '1 day');

-- name: ListLiveUserSessions :many
-- ListLiveUserSessions lists a user's sessions that a refresh token could
-- still continue, newest first, for the console. It only reads; a session
-- ending meanwhile shows until the next look.
SELECT id, created_at, refreshed_at, expires_at, ip, user_agent
FROM sessions
WHERE user_id = @user_id
  AND revoked_at IS NULL
  AND expires_at > now()
  AND refreshed_at > now() - make_interval(secs => @idle_seconds::float8)
ORDER BY created_at DESC
LIMIT 100;
