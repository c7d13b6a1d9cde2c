-- name: CreateProvisioningJob :one
INSERT INTO provisioning_jobs (user_id, kind, payload, run_at)
VALUES (@user_id, @kind, @payload, now() + make_interval(secs => @delay_seconds::float8))
RETURNING id;

-- name: DeleteProvisioningJob :exec
DELETE FROM provisioning_jobs WHERE id = $1;

-- name: RecordProvisioningFailure :exec
-- RecordProvisioningFailure puts a failed attempt's job back in line, to
-- run again after delay_seconds.
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
-- A failed job is never due and holds back no later job of its user: every
-- job reads the user as it is when it runs, so a later one never depends on
-- an earlier one having succeeded.
UPDATE provisioning_jobs
SET run_at = now() + make_interval(secs => @lease_seconds::float8),
    last_attempt_at = now()
WHERE id IN (
    SELECT j.id FROM provisioning_jobs j
    WHERE j.run_at <= now()
      AND j.state = 'pending'
      AND NOT EXISTS (
          SELECT 1 FROM provisioning_jobs o
          WHERE o.user_id = j.user_id AND o.id < j.id AND o.state = 'pending'
      )
    ORDER BY j.run_at, j.id
    LIMIT @max_jobs
    FOR UPDATE SKIP LOCKED
)
RETURNING *;

-- name: ProvisioningQueueStats :one
-- ProvisioningQueueStats counts the jobs still being tried (and the age of
-- the oldest) apart from the failed ones, which wait for a person.
SELECT count(*) FILTER (WHERE state = 'pending')::bigint AS depth,
       COALESCE(EXTRACT(EPOCH FROM (now() - min(created_at) FILTER (WHERE state = 'pending'))), 0)::float8 AS oldest_age_seconds,
       count(*) FILTER (WHERE state = 'failed')::bigint AS failed
FROM provisioning_jobs;

-- name: ListProvisioningJobs :many
SELECT * FROM provisioning_jobs ORDER BY id;

-- name: FailProvisioningJob :exec
-- FailProvisioningJob ends a job that will not succeed by being retried: it
-- stays, failed, with its last error, and is not claimed until retried. A
-- create job's user, still pending, shows the failure too; one statement
-- does both, so no reader sees one without the other.
WITH job AS (
    UPDATE provisioning_jobs
    SET attempts = attempts + 1,
        state = 'failed',
        failed_at = now(),
        last_error = @last_error
    WHERE provisioning_jobs.id = @id
    RETURNING provisioning_jobs.user_id, provisioning_jobs.kind
)
UPDATE users
SET provisioning = 'failed', updated_at = now()
FROM job
WHERE users.id = job.user_id AND job.kind = 'create' AND users.provisioning = 'pending';

-- name: RetryProvisioningJob :one
-- RetryProvisioningJob puts a failed job back in line, due after
-- delay_seconds, with a fresh count of attempts. A job that is not failed
-- (pending, running or gone) is left alone and no row is returned: a retry
-- never makes a job that another worker holds due a second time.
UPDATE provisioning_jobs
SET state = 'pending',
    attempts = 0,
    run_at = now() + make_interval(secs => @delay_seconds::float8),
    failed_at = NULL
WHERE id = @id AND state = 'failed'
RETURNING *;

-- name: MarkUserPendingAgain :exec
-- MarkUserPendingAgain shows a user whose failed create job is retried as
-- waiting again.
UPDATE users SET provisioning = 'pending', updated_at = now()
WHERE id = @id AND provisioning = 'failed';

-- name: ListProvisioningJobsPage :many
-- ListProvisioningJobsPage pages through jobs by id (the order they were
-- queued), optionally of one state, with the name of the user each is for:
-- the user's, or for a deleted user's delete job the name it carries.
SELECT sqlc.embed(j), COALESCE(u.username, j.payload->>'username', '')::text AS username
FROM provisioning_jobs j
LEFT JOIN users u ON u.id = j.user_id
WHERE j.id > @after_id
  AND (sqlc.narg(state)::text IS NULL OR j.state = sqlc.narg(state)::text)
ORDER BY j.id
LIMIT @max_rows;

-- name: GetProvisioningJob :one
SELECT sqlc.embed(j), COALESCE(u.username, j.payload->>'username', '')::text AS username
FROM provisioning_jobs j
LEFT JOIN users u ON u.id = j.user_id
WHERE j.id = @id;
