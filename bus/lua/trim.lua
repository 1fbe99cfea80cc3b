--[[
  Removes mailbox entries every consumer has finished with.

  KEYS[i]  mailbox stream i (one hash-tag group)
  ARGV[1]  consumer group name

  Keeps everything from the oldest pending entry on, and everything not yet delivered to the
  group; a stream without the group is left alone.

  Returns  the number of entries removed.
]]
local group = ARGV[1]
local removed = 0
for i = 1, #KEYS do
  local key = KEYS[i]
  if redis.call('EXISTS', key) == 1 then
    local lastDelivered = nil
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
      local name, last = nil, nil
      for k = 1, #g, 2 do
        if g[k] == 'name' then name = g[k + 1] end
        if g[k] == 'last-delivered-id' then last = g[k + 1] end
      end
      if name == group then lastDelivered = last end
    end
    if lastDelivered and lastDelivered ~= '0-0' then
      local pending = redis.call('XPENDING', key, group)
      local minId = lastDelivered
      if tonumber(pending[1]) > 0 then minId = pending[2] end
      removed = removed + redis.call('XTRIM', key, 'MINID', minId)
    end
  end
end
return removed
