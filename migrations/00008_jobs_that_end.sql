-- +goose Up
-- A provisioning job that Vonage refuses for good (a 4xx other than 429),
-- or that has failed SDKAUTH_PROVISIONING_MAX_ATTEMPTS times, stops being
-- retried: it is kept as 'failed' with its last error until an admin
-- retries it (POST /v1/admin/provisioning/jobs/{id}/retry) or
-- `sdkauth users reconcile --fix` does.
ALTER TABLE provisioning_jobs
    ADD COLUMN state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
    ADD COLUMN failed_at timestamptz;
-- The claim's range scan on run_at meets only the jobs still being tried,
-- however many have failed; the admin listing and the failed-jobs gauge
-- read only the failed ones.
DROP INDEX provisioning_jobs_run_at_idx;
CREATE INDEX provisioning_jobs_due_idx ON provisioning_jobs (run_at) WHERE state = 'pending';
CREATE INDEX provisioning_jobs_failed_idx ON provisioning_jobs (id) WHERE state = 'failed';

-- A user whose create job failed shows it. The new check only widens the
-- old one, which every row already satisfies, so it needs no scan.
ALTER TABLE users DROP CONSTRAINT users_provisioning_check;
ALTER TABLE users ADD CONSTRAINT users_provisioning_check
    CHECK (provisioning IN ('pending', 'provisioned', 'deprovisioning', 'failed')) NOT VALID;

-- When an upstream answered Retry-After, no replica calls it before until.
-- One row per upstream; replicas read it at most once a second.
CREATE TABLE upstream_holds (
    upstream  text        PRIMARY KEY,
    until     timestamptz NOT NULL
);

-- +goose Down
DROP TABLE upstream_holds;
UPDATE users SET provisioning = 'pending' WHERE provisioning = 'failed';
ALTER TABLE users DROP CONSTRAINT users_provisioning_check;
ALTER TABLE users ADD CONSTRAINT users_provisioning_check
    CHECK (provisioning IN ('pending', 'provisioned', 'deprovisioning'));
DROP INDEX provisioning_jobs_failed_idx;
DROP INDEX provisioning_jobs_due_idx;
CREATE INDEX provisioning_jobs_run_at_idx ON provisioning_jobs (run_at);
UPDATE provisioning_jobs SET run_at = now() WHERE state = 'failed';
ALTER TABLE provisioning_jobs DROP COLUMN failed_at, DROP COLUMN state;
