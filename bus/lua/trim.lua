--[[
  Removes stream entries every consumer has finished with.

  KEYS[i]  stream i (one hash-tag group)
  ARGV[1]  consumer group name, or '*' for every group of the stream (the outbox, which several
           consumers read: the downlink relays, the gateway's sink)

  Keeps everything from the oldest pending entry on, and everything not yet delivered to the
  group(s); a stream without the group (or without any group, for '*') is left alone.

  Returns  the number of entries removed.
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
for i = 1, #KEYS do
  local key = KEYS[i]
  if redis.call('EXISTS', key) == 1 then
    local minId = nil
    local groups = 0
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
      local name, last = nil, nil
      for k = 1, #g, 2 do
        if g[k] == 'name' then name = g[k + 1] end
        if g[k] == 'last-delivered-id' then last = g[k + 1] end
      end
      if wanted == '*' or name == wanted then
        groups = groups + 1
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
  end
end
return removed
