--[[
  Hands leases back so the next owner can take them at once (graceful hand-off).

  KEYS[i]   lease hash of shard i (one hash-tag group)
  ARGV[1]   node id
  ARGV[i+1] the epoch the node holds for shard i

  The epoch stays: the next holder's token is larger. A lease this node no longer holds
  with that epoch is left untouched.

  Returns  the number of leases released.
]]
local me = ARGV[1]
local released = 0
for i = 1, #KEYS do
  local fields = redis.call('HMGET', KEYS[i], 'node', 'epoch')
  if fields[1] == me and tonumber(fields[2]) == tonumber(ARGV[i + 1]) then
    redis.call('HSET', KEYS[i], 'node', '', 'until', 0)
    released = released + 1
  end
end
return released
