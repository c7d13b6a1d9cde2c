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
