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

-- name: InsertAuditEvents :batchexec
-- InsertAuditEvents is InsertAuditEvent for a batch sent in one round trip
-- and committed together (see auth.Audit.Record).
INSERT INTO audit_log (event, user_id, username, session_id, ip, user_agent, reason, detail, actor)
VALUES (@event, @user_id, @username, @session_id, @ip, @user_agent, @reason, @detail, @actor);
