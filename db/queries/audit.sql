-- name: InsertAuditEvent :exec
INSERT INTO audit_log (event, user_id, username, session_id, ip, user_agent, reason, detail, actor)
VALUES (@event, @user_id, @username, @session_id, @ip, @user_agent, @reason, @detail, @actor);

-- name: ListAuditEvents :many
-- ListAuditEvents returns the newest events first, optionally only those
-- of one user.
SELECT * FROM audit_log
WHERE (sqlc.narg(user_id)::uuid IS NULL OR user_id = sqlc.narg(user_id)::uuid)
ORDER BY id DESC
LIMIT @max_rows;

-- name: UserSignedUpHere :one
-- UserSignedUpHere reports whether this database ever signed up the user
-- with this id: the audit log outlives the user, so it tells a Vonage user
-- we created (and whose local user is gone) from another system's.
SELECT EXISTS (SELECT 1 FROM audit_log WHERE user_id = @user_id AND event = 'signup') AS ours;

-- name: InsertAuditEventRows :exec
-- InsertAuditEventRows writes a group of audit rows in one statement (see
-- auth.Audit.Record): the i-th element of each array is the i-th row's
-- column, and uuid.Nil stands for no user or no session.
INSERT INTO audit_log (event, user_id, username, session_id, ip, user_agent, reason, detail, actor)
SELECT r.event, NULLIF(r.user_id, '00000000-0000-0000-0000-000000000000'), r.username,
       NULLIF(r.session_id, '00000000-0000-0000-0000-000000000000'), r.ip, r.user_agent, r.reason, r.detail, r.actor
FROM (
    -- Set-returning functions in one select list advance together.
    SELECT unnest(@events::text[]) AS event,
           unnest(@user_ids::uuid[]) AS user_id,
           unnest(@usernames::text[]) AS username,
           unnest(@session_ids::uuid[]) AS session_id,
           unnest(@ips::text[]) AS ip,
           unnest(@user_agents::text[]) AS user_agent,
           unnest(@reasons::text[]) AS reason,
           unnest(@details::text[]) AS detail,
           unnest(@actors::text[]) AS actor
) r;

-- name: SweepAuditLog :one
-- SweepAuditLog deletes up to max_rows audit rows from before cutoff and at
-- or after since, in its own short transaction, and returns how many went
-- and the time of the newest: Audit.Sweep repeats it with since moved up,
-- so each batch's range scan of the BRIN index on at skips the pages the
-- batches before it emptied. Rows are deleted by id, so each statement
-- locks only the rows it removes.
WITH doomed AS (
    SELECT o.id FROM audit_log o
    WHERE o.at < @cutoff::timestamptz AND o.at >= @since::timestamptz
    LIMIT @max_rows
), gone AS (
    DELETE FROM audit_log a
    USING doomed d
    WHERE a.id = d.id
    RETURNING a.at AS deleted_at
)
SELECT count(*)::bigint AS deleted, COALESCE(max(g.deleted_at), @since::timestamptz)::timestamptz AS newest FROM gone g;

-- name: SearchAuditLog :many
-- SearchAuditLog returns up to max_rows events, newest first, older than
-- the id before_id (the last one of the previous page) and narrowed by
-- each filter given: a user by id or by name, an event, an actor, and a time
-- range [since, until). A page is a read of committed rows; it takes no
-- lock. Paging by id rather than by offset keeps a page stable while rows
-- are appended.
SELECT id, at, event, user_id, username, ip, reason, detail, actor FROM audit_log
WHERE (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id)::bigint)
  AND (sqlc.narg(user_id)::uuid IS NULL OR user_id = sqlc.narg(user_id)::uuid)
  AND (sqlc.narg(username)::text IS NULL OR username = sqlc.narg(username)::text
       -- Some events record only the user's id: match those of the user
       -- now called username too.
       OR user_id = (SELECT u.id FROM users u WHERE u.username = sqlc.narg(username)::text))
  AND (sqlc.narg(event)::text IS NULL OR event = sqlc.narg(event)::text)
  AND (sqlc.narg(actor)::text IS NULL OR actor = sqlc.narg(actor)::text)
  AND (sqlc.narg(since)::timestamptz IS NULL OR at >= sqlc.narg(since)::timestamptz)
  AND (sqlc.narg(until)::timestamptz IS NULL OR at < sqlc.narg(until)::timestamptz)
ORDER BY id DESC
LIMIT @max_rows;
