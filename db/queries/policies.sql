-- name: GetPolicy :one
SELECT * FROM policies WHERE name = $1;

-- name: ListPolicies :many
SELECT * FROM policies ORDER BY name;

-- name: InsertPolicy :execrows
INSERT INTO policies (name, acl, max_ttl)
VALUES (@name, @acl, @max_ttl)
ON CONFLICT (name) DO NOTHING;

-- name: UpdatePolicy :execrows
UPDATE policies SET acl = @acl, max_ttl = @max_ttl, updated_at = now()
WHERE name = @name;

-- name: DeletePolicy :execrows
DELETE FROM policies WHERE name = $1;

-- name: SetUserPolicy :execrows
UPDATE users SET policy = @policy, updated_at = now() WHERE id = @id;
