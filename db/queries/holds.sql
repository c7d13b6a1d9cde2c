-- name: ExtendUpstreamHold :exec
-- ExtendUpstreamHold makes every replica leave upstream alone for seconds
-- from now (the database's clock, which replicas share), unless a longer
-- hold is already in place.
INSERT INTO upstream_holds (upstream, until)
VALUES (@upstream, now() + make_interval(secs => @seconds::float8))
ON CONFLICT (upstream) DO UPDATE
SET until = GREATEST(upstream_holds.until, EXCLUDED.until);

-- name: UpstreamHoldRemaining :one
-- UpstreamHoldRemaining is how many seconds the hold on upstream has left,
-- 0 when there is none: a duration rather than a time, so replicas' clocks
-- need not agree.
SELECT COALESCE(max(EXTRACT(EPOCH FROM (until - now()))), 0)::float8 AS seconds
FROM upstream_holds
WHERE upstream = @upstream AND until > now();
