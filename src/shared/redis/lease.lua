-- The lease to run the watched live refresh for the whole cluster: taken when free,
-- renewed by its holder, refused to every other replica until it lapses.
-- KEYS[1]: the lease; ARGV[1]: this replica's token; ARGV[2]: how long it lasts (ms)
-- Returns 1 when this replica holds the lease now, 0 when another one does.
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
