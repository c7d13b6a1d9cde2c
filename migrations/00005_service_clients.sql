-- +goose Up
-- Service clients authenticate backend services and admins. Secrets are
-- 256-bit random keys, so a SHA-256 hash is enough: no slow hash needed.
CREATE TABLE service_clients (
    id           text        PRIMARY KEY,
    name         text        NOT NULL,
    secret_hash  bytea       NOT NULL,
    scopes       text[]      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    rotated_at   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE service_clients;
