-- name: ListSigningKeys :many
-- ListSigningKeys returns every key that still signs or verifies, newest
-- first; retired keys are left out.
SELECT id, public_key, private_key, state, created_at, activated_at, expires_at
FROM signing_keys
WHERE state <> 'retired'
ORDER BY created_at DESC, id;

-- name: ListAllSigningKeys :many
SELECT id, public_key, state, created_at, activated_at, expires_at
FROM signing_keys
ORDER BY created_at DESC, id;

-- name: InsertActiveKeyIfNone :execrows
-- InsertActiveKeyIfNone imports the first key. It inserts nothing when any
-- key is stored, or when another replica imported one at the same moment
-- (the unique index on the active state decides).
INSERT INTO signing_keys (id, public_key, private_key, state, activated_at)
SELECT @id, @public_key, @private_key, 'active', now()
WHERE NOT EXISTS (SELECT 1 FROM signing_keys)
ON CONFLICT DO NOTHING;

-- name: GetActiveKeyForUpdate :one
SELECT id FROM signing_keys WHERE state = 'active' FOR UPDATE;

-- name: GetPendingKeyForUpdate :one
SELECT id, created_at, now()::timestamptz AS now FROM signing_keys WHERE state = 'pending' FOR UPDATE;

-- name: DeletePendingKey :execrows
DELETE FROM signing_keys WHERE id = @id AND state = 'pending';

-- name: InsertPendingKey :exec
INSERT INTO signing_keys (id, public_key, private_key, state)
VALUES (@id, @public_key, @private_key, 'pending');

-- name: DemoteActiveKey :execrows
-- DemoteActiveKey is the compare-and-swap of a rotation: it changes
-- nothing unless id is still the active key.
UPDATE signing_keys
SET state = 'previous', expires_at = now() + make_interval(secs => @keep_seconds::float8)
WHERE id = @id AND state = 'active';

-- name: ActivatePendingKey :execrows
UPDATE signing_keys
SET state = 'active', activated_at = now()
WHERE id = @id AND state = 'pending';

-- name: RetireExpiredKeys :execrows
-- RetireExpiredKeys erases the private half of previous keys whose last
-- tokens have expired: nothing needs it any more.
UPDATE signing_keys
SET state = 'retired', private_key = NULL
WHERE state = 'previous' AND expires_at <= now();

-- name: NotifyKeysChanged :exec
SELECT pg_notify('sdkauth_keys', @kid::text);
