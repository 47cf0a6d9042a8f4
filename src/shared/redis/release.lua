-- Hands a claim back (a fill claim, the refresh lease): deletes it only while it is
-- still this replica's. A claim that lapsed (its holder was slow) may have been
-- taken since by another replica, whose claim this must not delete.
-- KEYS[1]: the claim; ARGV[1]: this claim's token
-- Returns 1 when the claim was deleted, 0 when it was no longer this one.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
