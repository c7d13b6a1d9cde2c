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

-- name: AgeConsoleSessions :exec
-- AgeConsoleSessions moves every console session's last use idle_seconds
-- and its absolute expiry expiry_seconds into the past.
UPDATE console_sessions
SET last_seen_at = last_seen_at - make_interval(secs => @idle_seconds::float8),
    expires_at   = expires_at   - make_interval(secs => @expiry_seconds::float8);

-- name: ExpireSigningKey :exec
-- ExpireSigningKey ends the trust in key id, as if its tokens had all
-- expired ago_seconds ago.
UPDATE signing_keys SET expires_at = now() - make_interval(secs => @ago_seconds::float8) WHERE id = @id;

-- name: InsertStalePendingKey :exec
-- InsertStalePendingKey stores a pending key claimed age_seconds ago, as a
-- rotation that crashed before activating it leaves one.
INSERT INTO signing_keys (id, public_key, private_key, state, created_at)
VALUES (@id, @public_key, @private_key, 'pending', now() - make_interval(secs => @age_seconds::float8));

-- name: ListSealedKeys :many
-- ListSealedKeys returns every stored key with its sealed private half.
SELECT id, state, public_key, private_key FROM signing_keys ORDER BY created_at, id;

-- name: EndUsernameReservations :exec
-- EndUsernameReservations ends every reservation, as if the longest token
-- lifetime had passed.
UPDATE username_reservations SET reserved_until = now();

-- name: MakeJobsDue :exec
-- MakeJobsDue makes every waiting provisioning job due now, in place of
-- waiting out its backoff.
UPDATE provisioning_jobs SET run_at = now();

-- name: InsertPastAuditRows :exec
-- InsertPastAuditRows writes n audit rows of event with detail, the first
-- ago_seconds ago and each later one step_seconds after it.
INSERT INTO audit_log (at, event, detail)
SELECT now() - make_interval(secs => @ago_seconds::float8) + i * make_interval(secs => @step_seconds::float8),
       @event::text, @detail::text
FROM generate_series(1, @n::int) AS i;

-- name: AllAuditEvents :many
-- AllAuditEvents returns the whole audit log in the order written.
SELECT * FROM audit_log ORDER BY id;

-- name: RowCounts :one
-- RowCounts counts the rows tests check for leftovers.
SELECT (SELECT count(*) FROM users)::bigint                                      AS users,
       (SELECT count(*) FROM sessions)::bigint                                   AS sessions,
       (SELECT count(*) FROM provisioning_jobs)::bigint                          AS provisioning_jobs,
       (SELECT count(*) FROM provisioning_jobs WHERE state = 'pending')::bigint  AS pending_jobs,
       (SELECT count(*) FROM console_sessions)::bigint                           AS console_sessions;

-- name: CountUnrevokedSessions :one
-- CountUnrevokedSessions counts user_id's sessions that are not revoked.
SELECT count(*) FROM sessions WHERE user_id = @user_id AND revoked_at IS NULL;

-- name: LatestConsoleCSRF :one
-- LatestConsoleCSRF is the CSRF token of the newest console session.
SELECT csrf_token FROM console_sessions ORDER BY created_at DESC LIMIT 1;

-- name: ImportInvariants :one
-- ImportInvariants counts what an import must never leave behind: users
-- signed up twice or never, users with two provisioning jobs, and pending
-- users without one.
SELECT (SELECT count(*) FROM (SELECT user_id FROM audit_log WHERE event = 'signup' GROUP BY user_id HAVING count(*) > 1) d)::bigint AS signed_up_twice,
       (SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.event = 'signup' AND a.user_id = u.id))::bigint AS never_signed_up,
       (SELECT count(*) FROM (SELECT user_id FROM provisioning_jobs GROUP BY user_id HAVING count(*) > 1) d)::bigint AS two_jobs,
       (SELECT count(*) FROM users u WHERE u.provisioning = 'pending' AND NOT EXISTS (SELECT 1 FROM provisioning_jobs j WHERE j.user_id = u.id))::bigint AS pending_without_job;

-- name: CountListeners :one
-- CountListeners counts this database's connections named application_name.
SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = @application_name AND datname = current_database();

-- name: TerminateListeners :exec
-- TerminateListeners ends this database's connections named application_name,
-- as a dropped connection or a failover would.
SELECT pg_terminate_backend(pid) FROM pg_catalog.pg_stat_activity WHERE application_name = @application_name AND datname = current_database();
