-- Merges what one upstream answer said into an endpoint family's shared window.
-- KEYS[1]: the family's window, a hash of limit, remaining, reset and paused
--          (times in epoch milliseconds; a field is absent while unknown)
-- ARGV[1]: now in epoch milliseconds by the calling replica's clock, or -1 for
--          Redis's own TIME (replicas on real time)
-- ARGV[2..5]: the answer's limit, remaining, reset and pause as the replica read
--          them (-1: not said)
-- ARGV[6]: how long past its reset (or pause) a window is kept, in milliseconds
-- A newer reset starts a new window and replaces what was known; within a window
-- the lower remaining wins (other replicas' calls may still be in flight), and a
-- pause holds until it ends, whoever saw the 429. A late answer from an older
-- window brings only its pause.
-- Returns {limit, remaining, reset, paused}, -1 standing for unknown.
local now = tonumber(ARGV[1])
if now < 0 then
  -- Real time: every replica decides on Redis's clock, whatever skew theirs have.
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function said(v)
  v = tonumber(v)
  if v and v >= 0 then return v end
  return nil
end
local a_limit, a_remaining, a_reset, a_paused = said(ARGV[2]), said(ARGV[3]), said(ARGV[4]), said(ARGV[5])
local keep = tonumber(ARGV[6])

local w = redis.call('HMGET', KEYS[1], 'limit', 'remaining', 'reset', 'paused')
local limit, remaining, reset, paused =
  tonumber(w[1]), tonumber(w[2]), tonumber(w[3]), tonumber(w[4])
if paused and paused <= now then paused = nil end

local function later(a, b)
  if a and b then return math.max(a, b) end
  return a or b
end

if a_reset and (not reset or a_reset > reset) then
  limit = a_limit or limit
  remaining = a_remaining
  reset = a_reset
  paused = a_paused
elseif not a_reset or a_reset == reset then
  limit = a_limit or limit
  if a_remaining and (not remaining or a_remaining < remaining) then
    remaining = a_remaining
  end
  paused = later(paused, a_paused)
else
  paused = later(paused, a_paused)
end

local fields = {limit = limit, remaining = remaining, reset = reset, paused = paused}
for _, name in ipairs({'limit', 'remaining', 'reset', 'paused'}) do
  if fields[name] then
    redis.call('HSET', KEYS[1], name, string.format('%.0f', fields[name]))
  else
    redis.call('HDEL', KEYS[1], name)
  end
end

-- The window is of no use once its reset (and any pause) is past: it expires then,
-- plus a margin. How far off that is, the replica says (its now and the reset are
-- in the frame of the upstream's headers); where it falls, Redis's own TIME says,
-- the clock its expiry runs on.
if redis.call('EXISTS', KEYS[1]) == 1 then
  local ends = later(reset, paused) or now
  local span = math.max(ends - now, 0) + keep
  local t = redis.call('TIME')
  local redis_now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('PEXPIREAT', KEYS[1], redis_now + span)
end
return {limit or -1, remaining or -1, reset or -1, paused or -1}
