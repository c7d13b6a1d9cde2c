-- name: ListUsersAsc :many
-- ListUsersAsc pages through users oldest first, after the keyset cursor
-- (after_created_at, after_id) when given, with optional filters.
SELECT * FROM users
WHERE (sqlc.narg(after_created_at)::timestamptz IS NULL
       OR (created_at, id) > (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::uuid))
  AND (sqlc.narg(username_like)::text IS NULL OR lower(username) LIKE sqlc.narg(username_like)::text)
  AND (sqlc.narg(provisioning)::text IS NULL OR provisioning = sqlc.narg(provisioning)::text)
  AND (sqlc.narg(disabled)::boolean IS NULL OR disabled = sqlc.narg(disabled)::boolean)
  AND (sqlc.narg(created_after)::timestamptz IS NULL OR created_at > sqlc.narg(created_after)::timestamptz)
  AND (sqlc.narg(created_before)::timestamptz IS NULL OR created_at < sqlc.narg(created_before)::timestamptz)
ORDER BY created_at, id
LIMIT sqlc.arg(page_limit)::int;

-- name: ListUsersDesc :many
-- ListUsersDesc is ListUsersAsc newest first.
SELECT * FROM users
WHERE (sqlc.narg(after_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::uuid))
  AND (sqlc.narg(username_like)::text IS NULL OR lower(username) LIKE sqlc.narg(username_like)::text)
  AND (sqlc.narg(provisioning)::text IS NULL OR provisioning = sqlc.narg(provisioning)::text)
  AND (sqlc.narg(disabled)::boolean IS NULL OR disabled = sqlc.narg(disabled)::boolean)
  AND (sqlc.narg(created_after)::timestamptz IS NULL OR created_at > sqlc.narg(created_after)::timestamptz)
  AND (sqlc.narg(created_before)::timestamptz IS NULL OR created_at < sqlc.narg(created_before)::timestamptz)
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_limit)::int;

-- name: SetUserDisabled :one
UPDATE users SET disabled = @disabled, updated_at = now() WHERE id = @id
RETURNING *;
