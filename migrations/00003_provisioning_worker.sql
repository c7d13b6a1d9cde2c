-- +goose Up
-- The worker claims a user's jobs strictly in order (the oldest one first),
-- so a delete never overtakes the create it undoes.
CREATE INDEX provisioning_jobs_user_order_idx ON provisioning_jobs (user_id, id);
-- When the job was last tried, for the operator and the metrics.
ALTER TABLE provisioning_jobs ADD COLUMN last_attempt_at timestamptz;

-- +goose Down
ALTER TABLE provisioning_jobs DROP COLUMN last_attempt_at;
DROP INDEX provisioning_jobs_user_order_idx;
