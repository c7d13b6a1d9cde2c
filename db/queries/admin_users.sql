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

-- name: ListAllUsersAsc :many
-- ListAllUsersAsc is ListUsersAsc without filters, the console's and the
-- CLI's plain listing. Postgres can keep one generic plan for it instead of
-- planning every page (0.03 ms of its CPU a page at a million users, which
-- ListUsersAsc pays since its optional conditions need a custom plan): the
-- keyset bound is always an index condition, a missing cursor standing for
-- the lowest key, and the inner LIMIT is a constant (the largest page_size,
-- 100, plus one), because a LIMIT parameter makes the generic plan look as
-- if it read a tenth of the table. The outer LIMIT is the page and bounds
-- the rows actually read.
SELECT * FROM (
  SELECT * FROM users
  WHERE (created_at, id) > (COALESCE(sqlc.narg(after_created_at)::timestamptz, '-infinity'),
                            COALESCE(sqlc.narg(after_id)::uuid, '00000000-0000-0000-0000-000000000000'))
  ORDER BY created_at, id
  LIMIT 101) u
ORDER BY created_at, id
LIMIT sqlc.arg(page_limit)::int;

-- name: ListAllUsersDesc :many
-- ListAllUsersDesc is ListAllUsersAsc newest first.
SELECT * FROM (
  SELECT * FROM users
  WHERE (created_at, id) < (COALESCE(sqlc.narg(after_created_at)::timestamptz, 'infinity'),
                            COALESCE(sqlc.narg(after_id)::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
  ORDER BY created_at DESC, id DESC
  LIMIT 101) u
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_limit)::int;

-- name: SetUserDisabled :one
UPDATE users SET disabled = @disabled, updated_at = now() WHERE id = @id
RETURNING *;
