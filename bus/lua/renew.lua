--[[
  Extends the leases a node holds, if it still holds them with the same epoch.

  KEYS[i]  lease hash of shard i (one hash-tag group)
  ARGV[1]  node id
  ARGV[2]  lease ttl, ms
  ARGV[i+2] the epoch the node holds for shard i

  Returns  for each shard i: 1 when renewed, 0 when the lease was lost (expired and taken,
           or its epoch moved on). A lost lease is never renewed: the node must drop the shard.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me, ttl = ARGV[1], tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS do
  local fields = redis.call('HMGET', KEYS[i], 'node', 'epoch', 'until')
  if fields[1] == me and tonumber(fields[2]) == tonumber(ARGV[i + 2]) and tonumber(fields[3]) > now then
    redis.call('HSET', KEYS[i], 'until', now + ttl)
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
