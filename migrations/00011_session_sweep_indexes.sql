-- +goose Up
-- SweepSessions deletes sessions expired, revoked or idle for over a day.
-- Only expires_at had an index, so the OR of the three scanned the whole
-- table every minute (about a second at five million sessions: see
-- bench/RESULTS-scale.md). An index on refreshed_at would end the HOT
-- updates every refresh relies on (00007), so the idle test gets a coarse
-- copy instead: refreshed_on, the UTC day of refreshed_at. A refresh sets it
-- to the same value all day long, and Postgres keeps an update HOT when no
-- indexed value changes, so a session's index entries change at most once a
-- day. Revocation happens once per session; its index holds only revoked
-- sessions.
ALTER TABLE sessions ADD COLUMN refreshed_on date;
UPDATE sessions SET refreshed_on = (refreshed_at AT TIME ZONE 'UTC')::date;
ALTER TABLE sessions ALTER COLUMN refreshed_on SET DEFAULT (now() AT TIME ZONE 'UTC')::date,
                     ALTER COLUMN refreshed_on SET NOT NULL;
CREATE INDEX sessions_refreshed_on_idx ON sessions (refreshed_on);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- +goose Down
DROP INDEX sessions_revoked_at_idx;
DROP INDEX sessions_refreshed_on_idx;
ALTER TABLE sessions DROP COLUMN refreshed_on;
