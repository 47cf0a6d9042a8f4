-- A replica's heartbeat, by Redis's own clock (replicas' clocks may disagree).
-- KEYS[1]: sorted set of replicas, scored by their last beat (seconds)
-- ARGV[1]: this replica's id; ARGV[2]: seconds after which a silent replica is gone
-- Returns the number of replicas serving, this one included.
local now = tonumber(redis.call('TIME')[1])
local lapse = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - lapse)
redis.call('EXPIRE', KEYS[1], lapse * 2)
return redis.call('ZCARD', KEYS[1])
