-- Checks and spends one call of an endpoint family's shared budget, atomically.
-- KEYS[1]: the family's window, a hash of limit, remaining, reset and paused
--          (times in epoch milliseconds; a field is absent while unknown)
-- ARGV[1]: now in epoch milliseconds by the calling replica's clock, or -1 for
--          Redis's own TIME (replicas on real time)
-- Refuses while the family is paused, or while nothing remains before the reset;
-- otherwise counts the call against what remains (when that is known).
-- Returns {admitted (1/0), refused until (or -1), limit, remaining, reset, paused},
-- -1 standing for unknown: the window as it now stands, for the caller's own copy.
local now = tonumber(ARGV[1])
if now < 0 then
  -- Real time: every replica decides on Redis's clock, whatever skew theirs have.
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local w = redis.call('HMGET', KEYS[1], 'limit', 'remaining', 'reset', 'paused')
local limit, remaining, reset, paused =
  tonumber(w[1]), tonumber(w[2]), tonumber(w[3]), tonumber(w[4])
local admitted, refused_until = 1, -1
if paused and paused > now then
  admitted, refused_until = 0, paused
elseif remaining and reset and reset > now then
  if remaining < 1 then
    admitted, refused_until = 0, reset
  else
    remaining = remaining - 1
    redis.call('HSET', KEYS[1], 'remaining', string.format('%.0f', remaining))
  end
end
return {admitted, refused_until, limit or -1, remaining or -1, reset or -1, paused or -1}
