-- Records one listener-history sample of a Space, at most one per live TTL.
-- KEYS[1]: the Space's sorted set (score: epoch ms; member: "ms:participants").
-- ARGV: at (ms), participants, every (ms), oldest kept (ms), cap per Space,
-- retention (ms, the key's expiry).
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
return 1
