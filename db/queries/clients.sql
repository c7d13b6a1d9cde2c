-- name: CreateServiceClient :one
INSERT INTO service_clients (id, name, secret_hash, scopes)
VALUES ($1, $2, $3, $4)
RETURNING *;

-- name: GetServiceClient :one
SELECT * FROM service_clients WHERE id = $1;

-- name: ListServiceClients :many
SELECT * FROM service_clients ORDER BY created_at, id;

-- name: RotateServiceClientSecret :one
UPDATE service_clients SET secret_hash = $2, rotated_at = now()
WHERE id = $1
RETURNING *;

-- name: DeleteServiceClient :execrows
DELETE FROM service_clients WHERE id = $1;
