-- name: CreateProvisioningJob :one
INSERT INTO provisioning_jobs (user_id, kind, payload, run_at)
VALUES (@user_id, @kind, @payload, now() + make_interval(secs => @delay_seconds::float8))
RETURNING id;

-- name: DeleteProvisioningJob :exec
DELETE FROM provisioning_jobs WHERE id = $1;

-- name: RecordProvisioningFailure :exec
UPDATE provisioning_jobs
SET attempts = attempts + 1,
    run_at = now() + make_interval(secs => @delay_seconds::float8),
    last_error = @last_error
WHERE id = @id;

-- name: DeleteUser :exec
DELETE FROM users WHERE id = $1;

-- name: DeleteProvisioningJobsOfUser :exec
DELETE FROM provisioning_jobs WHERE user_id = $1;

-- name: ClaimProvisioningJobs :many
-- ClaimProvisioningJobs takes up to max_jobs due jobs and leases them: their
-- run_at moves lease_seconds ahead in the same statement, so no other
-- replica claims them while they run, and a crashed worker's jobs come due
-- again when the lease ends. Only the oldest job of each user is eligible,
-- so a user's jobs run in order. SKIP LOCKED lets replicas claim side by side.
UPDATE provisioning_jobs
SET run_at = now() + make_interval(secs => @lease_seconds::float8),
    last_attempt_at = now()
WHERE id IN (
    SELECT j.id FROM provisioning_jobs j
    WHERE j.run_at <= now()
      AND NOT EXISTS (
          SELECT 1 FROM provisioning_jobs o WHERE o.user_id = j.user_id AND o.id < j.id
      )
    ORDER BY j.run_at, j.id
    LIMIT @max_jobs
    FOR UPDATE SKIP LOCKED
)
RETURNING *;

-- name: ProvisioningQueueStats :one
SELECT count(*)::bigint AS depth,
       COALESCE(EXTRACT(EPOCH FROM (now() - min(created_at))), 0)::float8 AS oldest_age_seconds
FROM provisioning_jobs;

-- name: ListProvisioningJobs :many
SELECT * FROM provisioning_jobs ORDER BY id;
