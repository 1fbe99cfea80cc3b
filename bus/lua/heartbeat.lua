--[[
  Records a hub node's heartbeat and returns the live members, on Redis's clock.

  KEYS[1]  members sorted set (node id -> heartbeat expiry, ms)
  ARGV[1]  node id
  ARGV[2]  ttl in ms: the node counts as alive until now + ttl
  ARGV[3]  "1" to register/refresh, "0" to leave the cluster

  Returns  { nowMs, liveNodeId1, liveNodeId2, ... } sorted by node id.
  Members whose heartbeat expired more than a minute ago are removed.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] == '1' then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 60000)
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
table.sort(live)
table.insert(live, 1, now)
return live
