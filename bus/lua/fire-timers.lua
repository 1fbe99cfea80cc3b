--[[
  Turns due durable timers into mailbox messages, for the shards a node holds (one tag group).

  KEYS[1]  timers zset of the group (member "<shard>|<address>|<name>", score = due ms)
  KEYS[2]  timer data hash of the group (member -> JSON {"name","data"}, for timers set with
           data; one without has no field there, and its payload is {"name"} from the member)
  KEYS[3]  ready set of the group (the shard is marked ready with its timer entry)
  ARGV[1]  most due timers to look at in this call
  ARGV[2]  mask: character s+1 is '1' when this node holds shard s
  ARGV[3]  mailbox key template of the group, %d for the shard number (from bus/keys.ts)

  A due timer is removed and appended to its shard's mailbox in one step, so it fires exactly
  once, on whichever node holds the shard now; timers of shards held elsewhere are left to their
  holder. Timers that fell due while no node was running fire the first time a node holds the
  shard again. The mailbox entry has a (actor address), m = '@timer', p = JSON {"name","data"},
  t = due time (ms).

  Returns  the number of timers fired.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, mask, template = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local fired = 0
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
for k = 1, #due, 2 do
  local member = due[k]
  local bar1 = string.find(member, '|', 1, true)
  local bar2 = bar1 and string.find(member, '|', bar1 + 1, true)
  local shard = bar1 and tonumber(string.sub(member, 1, bar1 - 1))
  if not (shard and bar2) then
    -- Not a timer this code wrote: drop it rather than look at it forever.
    redis.call('ZREM', KEYS[1], member)
    redis.call('HDEL', KEYS[2], member)
  elseif string.sub(mask, shard + 1, shard + 1) == '1' then
    local stored = redis.call('HGET', KEYS[2], member)
    local data = stored or ('{"name":"' .. string.sub(member, bar2 + 1) .. '"}')
    local address = string.sub(member, bar1 + 1, bar2 - 1)
    redis.call('XADD', string.format(template, shard), '*', 'a', address, 'm', '@timer', 'p', data, 't', due[k + 1])
    redis.call('SADD', KEYS[3], shard)
    redis.call('ZREM', KEYS[1], member)
    if stored then redis.call('HDEL', KEYS[2], member) end
    fired = fired + 1
  end
end
return fired
