-- +goose Up
-- Every refresh marks the presented token rotated and touches its session:
-- updates of columns no index covers. Room left free on each page lets
-- Postgres keep such an update on the row's page (a HOT update) instead of
-- adding an entry to every index of the table.
ALTER TABLE refresh_tokens SET (fillfactor = 70);
ALTER TABLE sessions SET (fillfactor = 80);

-- audit_log is appended to in time order and never updated, so a BRIN index
-- finds a time range (what a retention sweep deletes) at a fraction of a
-- B-tree's cost per insert. No query orders by it.
DROP INDEX audit_log_at_idx;
CREATE INDEX audit_log_at_brin ON audit_log USING brin (at);

-- +goose Down
DROP INDEX audit_log_at_brin;
CREATE INDEX audit_log_at_idx ON audit_log (at);
ALTER TABLE sessions RESET (fillfactor);
ALTER TABLE refresh_tokens RESET (fillfactor);
