-- Records one listener-history sample of a Space, at most one per live TTL, and with
-- it the Space's summary and its place in the index of Spaces with a history.
-- KEYS[1]: the Space's sorted set (score: epoch ms; member: "ms:participants").
-- KEYS[2]: the Space's summary (JSON). KEYS[3]: the index (score: last sample's ms;
-- member: Space id).
-- ARGV: at (ms), participants, every (ms), oldest kept (ms), cap per Space,
-- retention (ms, the keys' expiry), summary (JSON, or empty to leave it), Space id.
-- Returns 1 when kept, 0 when too soon after the last sample (or older than it).
local key = KEYS[1]
local at = tonumber(ARGV[1])
local every = tonumber(ARGV[3])
local oldest = tonumber(ARGV[4])
local cap = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. ARGV[4])
local last = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')
if last[2] ~= nil and at < tonumber(last[2]) + every then
  return 0
end
if at < oldest then
  return 0
end
redis.call('ZADD', key, at, ARGV[1] .. ':' .. ARGV[2])
if cap > 0 then
  redis.call('ZREMRANGEBYRANK', key, 0, -(cap + 1))
end
redis.call('PEXPIRE', key, ARGV[6])
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[2], ARGV[7], 'PX', ARGV[6])
elseif redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
redis.call('ZADD', KEYS[3], at, ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
return 1
