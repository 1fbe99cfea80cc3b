--[[
  Removes stream entries every consumer has finished with.

  KEYS[i]  stream i (one hash-tag group)
  ARGV[1]  consumer group name, or '*' for every group of the stream (the outbox, which several
           consumers read: the downlink relays, the gateway's sink)

  Keeps everything from the oldest pending entry on, and everything not yet delivered to the
  group(s); a stream without the group (or without any group, for '*') is left alone.

  Returns  {removed, backlog}: the entries removed, and the backlog of the group(s) — entries not
           yet delivered (XINFO's lag) plus delivered and not yet acknowledged (pending), summed
           over the streams — read from the XINFO GROUPS reply the trim needs anyway. Where Redis
           cannot tell the lag (entries deleted with XDEL), the stream's length after the trim
           stands in for lag + pending (an upper bound).
]]
local wanted = ARGV[1]

local function older(a, b)
  local ams, aseq = string.match(a, '(%d+)-(%d+)')
  local bms, bseq = string.match(b, '(%d+)-(%d+)')
  ams, bms = tonumber(ams), tonumber(bms)
  if ams ~= bms then return ams < bms end
  return tonumber(aseq) < tonumber(bseq)
end

local removed = 0
local backlog = 0
for i = 1, #KEYS do
  local key = KEYS[i]
  if redis.call('EXISTS', key) == 1 then
    local minId = nil
    local groups = 0
    local unknownLag = false
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
      local name, last, lag, waiting = nil, nil, nil, 0
      for k = 1, #g, 2 do
        if g[k] == 'name' then name = g[k + 1] end
        if g[k] == 'last-delivered-id' then last = g[k + 1] end
        if g[k] == 'lag' then lag = g[k + 1] end
        if g[k] == 'pending' then waiting = g[k + 1] end
      end
      if wanted == '*' or name == wanted then
        groups = groups + 1
        -- A nil lag comes to Lua as false.
        if lag then backlog = backlog + lag + waiting else unknownLag = true end
        local keep = last
        local pending = redis.call('XPENDING', key, name)
        if tonumber(pending[1]) > 0 then keep = pending[2] end
        if keep == '0-0' then
          minId = '0-0'
        elseif minId == nil or (minId ~= '0-0' and older(keep, minId)) then
          minId = keep
        end
      end
    end
    if groups > 0 and minId ~= '0-0' then
      removed = removed + redis.call('XTRIM', key, 'MINID', minId)
    end
    if unknownLag then backlog = backlog + redis.call('XLEN', key) end
  end
end
return {removed, backlog}
