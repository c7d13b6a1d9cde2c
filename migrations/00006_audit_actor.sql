-- +goose Up
-- Who acted, when it was not the user: the service client behind an admin
-- request ("client:<client_id>"), empty for a user's own actions.
ALTER TABLE audit_log ADD COLUMN actor text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN actor;
