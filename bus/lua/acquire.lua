--[[
  Tries to take the leases of several shards (one hash-tag group) for a node.

  KEYS[2i-1]  lease hash of shard i (fields: node, epoch, until)
  KEYS[2i]    mailbox stream of shard i (its consumer group is created if missing)
  ARGV[1]     node id
  ARGV[2]     lease ttl, ms
  ARGV[3]     consumer group name

  A lease is taken when it is free (never held, released: node == ''), expired, or already
  held by this node. Taking a lease that was not already valid for this node increments the
  epoch: the fencing token every later write by the holder must present.

  Returns  for each shard i, a pair { epoch, previous }:
           epoch    > 0 when the lease is now this node's, 0 when another node holds it;
           previous the node that held it before when it was taken from an expired holder,
                    '' when it was free, released or already ours.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me, ttl, group = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out = {}
for i = 1, #KEYS, 2 do
  local lease, mailbox = KEYS[i], KEYS[i + 1]
  local fields = redis.call('HMGET', lease, 'node', 'epoch', 'until')
  local holder = fields[1] or ''
  local epoch = tonumber(fields[2]) or 0
  local expiry = tonumber(fields[3]) or 0
  if holder == me and expiry > now then
    redis.call('HSET', lease, 'until', now + ttl)
    out[#out + 1] = { epoch, '' }
  elseif holder == '' or expiry <= now then
    epoch = redis.call('HINCRBY', lease, 'epoch', 1)
    redis.call('HSET', lease, 'node', me, 'until', now + ttl)
    local ok = pcall(redis.call, 'XGROUP', 'CREATE', mailbox, group, '0', 'MKSTREAM')
    local previous = ''
    if holder ~= me then previous = holder end
    out[#out + 1] = { epoch, previous }
  else
    out[#out + 1] = { 0, holder }
  end
end
return out
