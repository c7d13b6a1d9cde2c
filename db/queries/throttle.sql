-- name: TakeRateToken :one
-- TakeRateToken draws one request from key's GCRA bucket: the theoretical
-- arrival time advances by one interval, and the request is allowed while
-- it stays within burst intervals of now. Over the limit no row is updated
-- or returned. One statement, so replicas sharing a key cannot race.
INSERT INTO rate_limits AS r (key, tat)
VALUES (@key, now() + make_interval(secs => @interval_seconds::float8))
ON CONFLICT (key) DO UPDATE
SET tat = GREATEST(r.tat, now()) + make_interval(secs => @interval_seconds::float8)
WHERE GREATEST(r.tat, now()) + make_interval(secs => @interval_seconds::float8)
      <= now() + make_interval(secs => @burst_seconds::float8)
RETURNING tat;

-- name: RateLimitBacklog :one
-- RateLimitBacklog is how many seconds key's theoretical arrival time lies
-- ahead of now; the caller turns it into a wait.
SELECT EXTRACT(EPOCH FROM (GREATEST(tat, now()) - now()))::float8 AS ahead_seconds
FROM rate_limits WHERE key = @key;

-- name: AccountLockedFor :one
-- AccountLockedFor is how many seconds key stays locked; no row when it is not.
SELECT EXTRACT(EPOCH FROM (locked_until - now()))::float8 AS wait_seconds
FROM login_failures WHERE key = @key AND locked_until > now();

-- name: RecordLoginFailure :one
-- RecordLoginFailure counts a failed password check and returns the count,
-- starting again from one when the last failure is older than reset_seconds.
INSERT INTO login_failures AS f (key, failures, last_failure_at, locked_until)
VALUES (@key, 1, now(), now())
ON CONFLICT (key) DO UPDATE
SET failures = CASE WHEN f.last_failure_at < now() - make_interval(secs => @reset_seconds::float8)
                    THEN 1 ELSE f.failures + 1 END,
    last_failure_at = now()
RETURNING failures;

-- name: LockAccount :exec
UPDATE login_failures
SET locked_until = GREATEST(locked_until, now() + make_interval(secs => @delay_seconds::float8))
WHERE key = @key;

-- name: ClearLoginFailures :exec
DELETE FROM login_failures WHERE key = @key;

-- name: SweepRateLimits :execrows
DELETE FROM rate_limits WHERE tat < now();

-- name: SweepLoginFailures :execrows
DELETE FROM login_failures
WHERE locked_until < now() AND last_failure_at < now() - make_interval(secs => @reset_seconds::float8);
