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
