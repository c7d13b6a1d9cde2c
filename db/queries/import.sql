-- name: UsersNamed :many
-- UsersNamed finds the users whose names, lowercased, are in lower_names:
-- the lines of an import that already exist, found before any password of
-- theirs is hashed.
SELECT id, username FROM users WHERE lower(username) = ANY (@lower_names::text[]);

-- name: PoliciesNamed :many
SELECT name FROM policies WHERE name = ANY (@names::text[]);

-- name: InsertImportedUsers :many
-- InsertImportedUsers writes one batch of an import in one statement: the
-- i-th element of each array is the i-th user's column. A name taken since
-- the caller looked (a sign-up or another import at the same moment) hits
-- the unique index on lower(username) and is skipped, not an error, so one
-- such race does not undo the batch; the caller finds which rows came back.
-- A concurrent insert of the same name makes this one wait for that
-- transaction's outcome, as a single insert would.
INSERT INTO users (id, username, password_hash, display_name, image_url, policy)
SELECT r.id, r.username, r.password_hash, r.display_name, r.image_url, r.policy
FROM (
    -- Set-returning functions in one select list advance together.
    SELECT unnest(@ids::uuid[]) AS id,
           unnest(@usernames::text[]) AS username,
           unnest(@password_hashes::text[]) AS password_hash,
           unnest(@display_names::text[]) AS display_name,
           unnest(@image_urls::text[]) AS image_url,
           unnest(@policies::text[]) AS policy
) r
ON CONFLICT DO NOTHING
RETURNING id;

-- name: DeleteReservedImports :many
-- DeleteReservedImports takes back, inside the import's transaction, the
-- users of ids whose name is reserved after a deletion. It runs after the
-- insert, as a new statement, so that a deletion of the same name that the
-- insert waited for is seen with the reservation it committed (see
-- Service.create, which checks the same way).
DELETE FROM users u
USING username_reservations r
WHERE u.id = ANY (@ids::uuid[])
  AND r.username = lower(u.username)
  AND r.reserved_until > now()
RETURNING u.id;

-- name: EnqueueCreateJobs :exec
-- EnqueueCreateJobs queues one create job per user, due at once: imported
-- users are provisioned by the background worker, never inline.
INSERT INTO provisioning_jobs (user_id, kind)
SELECT unnest(@user_ids::uuid[]), 'create';
