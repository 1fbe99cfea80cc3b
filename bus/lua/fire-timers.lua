--[[
  Turns due durable timers into mailbox messages, for the shards a node holds (one group).

  For each shard i (4 keys each):
    KEYS[4i-3] lease hash   KEYS[4i-2] timers zset   KEYS[4i-1] timer data hash   KEYS[4i] mailbox
  ARGV[1]  node id
  ARGV[2]  most timers to fire per shard in this call
  ARGV[i+2] the epoch the node holds for shard i

  A due timer is removed and appended to the mailbox in one step, so it fires exactly once,
  on whichever node holds the shard now. Timers that fell due while no node was running fire
  the first time a node holds the shard again. The mailbox entry has the fields
  a (actor address), m = '@timer', p = JSON {"name","data"}, t = due time (ms).

  Returns  the number of timers fired.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me, limit = ARGV[1], tonumber(ARGV[2])
local fired = 0
for i = 1, #KEYS / 4 do
  local base = (i - 1) * 4
  local lease, timers, tdata, mailbox = KEYS[base + 1], KEYS[base + 2], KEYS[base + 3], KEYS[base + 4]
  local f = redis.call('HMGET', lease, 'node', 'epoch', 'until')
  if f[1] == me and tonumber(f[2]) == tonumber(ARGV[i + 2]) and (tonumber(f[3]) or 0) > now then
    local due = redis.call('ZRANGEBYSCORE', timers, '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
    for k = 1, #due, 2 do
      local member = due[k]
      local sep = string.find(member, '|', 1, true)
      local data = redis.call('HGET', tdata, member) or '{}'
      redis.call('XADD', mailbox, '*', 'a', string.sub(member, 1, sep - 1), 'm', '@timer', 'p', data, 't', due[k + 1])
      redis.call('ZREM', timers, member)
      redis.call('HDEL', tdata, member)
      fired = fired + 1
    end
  end
end
return fired
