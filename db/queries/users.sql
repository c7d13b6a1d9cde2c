-- name: CreateUser :one
INSERT INTO users (id, username, password_hash, display_name, image_url, policy)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: GetUser :one
SELECT * FROM users WHERE id = $1;

-- name: GetUserByUsername :one
SELECT * FROM users WHERE lower(username) = lower(@username::text);

-- name: MarkUserProvisioned :one
UPDATE users
SET provisioning = 'provisioned', vonage_user_id = @vonage_user_id, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: SetPasswordHash :exec
UPDATE users SET password_hash = @password_hash, updated_at = now() WHERE id = @id;

-- name: UpdateUserProfile :one
-- UpdateUserProfile sets the fields given (NULL leaves one alone).
UPDATE users
SET display_name = COALESCE(sqlc.narg(display_name), display_name),
    image_url = COALESCE(sqlc.narg(image_url), image_url),
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: MarkUserPending :one
-- MarkUserPending forgets the user's Vonage user (gone behind our back), so
-- a create job makes a new one.
UPDATE users
SET provisioning = 'pending', vonage_user_id = NULL, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: ReserveUsername :exec
INSERT INTO username_reservations (username, user_id, reserved_until)
VALUES (lower(@username::text), @user_id, now() + make_interval(secs => @seconds::float8))
ON CONFLICT (username) DO UPDATE
SET user_id = EXCLUDED.user_id,
    reserved_until = GREATEST(username_reservations.reserved_until, EXCLUDED.reserved_until);

-- name: UsernameReserved :one
SELECT EXISTS (
    SELECT 1 FROM username_reservations
    WHERE username = lower(@username::text) AND reserved_until > now()
) AS reserved;

-- name: SweepUsernameReservations :execrows
DELETE FROM username_reservations WHERE reserved_until <= now();

-- name: ListUsersAfter :many
-- ListUsersAfter pages through every user by id.
SELECT * FROM users WHERE id > @after ORDER BY id LIMIT @max_rows;
