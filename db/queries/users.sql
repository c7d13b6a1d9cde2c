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
