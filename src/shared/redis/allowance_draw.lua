-- Draws one call from each of the token buckets a call draws on, all or none.
-- KEYS[1..n]: the buckets, each a hash of tokens and at (epoch milliseconds), in the
--             order they are checked (the client's, the cold share, the whole)
-- ARGV[1]: now in epoch milliseconds by the calling replica's clock, or -1 for
--          Redis's own TIME (replicas on real time)
-- ARGV[2]: how long an untouched bucket is kept, in milliseconds (at least the time
--          it takes to refill: a bucket that is gone is a full one)
-- ARGV[2 + i]: the size of bucket i: it holds a minute's worth, refilled evenly
-- Returns {0, 0} when drawn, or {i, ms}: bucket i is empty and holds a call again
-- in ms milliseconds; then nothing was taken from any bucket.
local now = tonumber(ARGV[1])
if now < 0 then
  -- Real time: every replica decides on Redis's clock, whatever skew theirs have.
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local keep = tonumber(ARGV[2])
local tokens, ats = {}, {}
for i = 1, #KEYS do
  local size = tonumber(ARGV[2 + i])
  local b = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  local held, at = tonumber(b[1]), tonumber(b[2])
  if not held or not at then
    held, at = size, now
  end
  held = math.min(held + math.max(now - at, 0) * size / 60000, size)
  if held < 1 then
    return {i, math.max(math.ceil((1 - held) * 60000 / size), 1)}
  end
  tokens[i], ats[i] = held, math.max(at, now)
end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 'tokens', tokens[i] - 1, 'at', ats[i])
  redis.call('PEXPIRE', KEYS[i], keep)
end
return {0, 0}
