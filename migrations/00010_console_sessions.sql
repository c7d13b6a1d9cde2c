-- +goose Up
-- Sessions of the admin console (/console). A row is a signed-in browser:
-- only the SHA-256 of its cookie is stored, so a leaked table lets nobody in.
-- Deleting the service client ends its sessions; so, by the check in
-- ResumeConsoleSession, does rotating its secret or losing the admin scope.
CREATE TABLE console_sessions (
    token_hash    bytea       PRIMARY KEY,
    client_id     text        NOT NULL REFERENCES service_clients (id) ON DELETE CASCADE,
    csrf_token    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX console_sessions_client_id ON console_sessions (client_id);

-- +goose Down
DROP TABLE console_sessions;
