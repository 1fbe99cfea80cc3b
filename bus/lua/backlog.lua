--[[
  The backlog of a consumer group over one hash-tag group's streams, read without changing them
  (what trim.lua reads on its way to trimming): entries not yet delivered to the group (XINFO's
  lag) plus those delivered and not yet acknowledged (pending), summed over the streams. Where
  Redis cannot tell the lag (entries deleted with XDEL), the stream's length stands in for lag +
  pending (an upper bound). A stream that does not exist, or has no such group, counts 0.

  KEYS[i]  stream i (one hash-tag group)
  ARGV[1]  consumer group name

  Returns  the backlog (an integer)
]]
local wanted = ARGV[1]
local backlog = 0
for i = 1, #KEYS do
  local key = KEYS[i]
  if redis.call('EXISTS', key) == 1 then
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
      local name, lag, waiting = nil, nil, 0
      for k = 1, #g, 2 do
        if g[k] == 'name' then name = g[k + 1] end
        if g[k] == 'lag' then lag = g[k + 1] end
        if g[k] == 'pending' then waiting = g[k + 1] end
      end
      if name == wanted then
        -- A nil lag comes to Lua as false.
        if lag then backlog = backlog + lag + waiting else backlog = backlog + redis.call('XLEN', key) end
      end
    end
  end
end
return backlog
