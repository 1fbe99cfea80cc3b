--[[
  Appends latest-value events to a tag group's live stream as one entry, the way commit.lua does
  for a commit's published events (for writers outside a turn: the screens benchmark's feed).

  KEYS[1]  live stream     KEYS[2]  live number (string)
  ARGV[1]  how long the live stream keeps an entry (ms)
  ARGV[2..] eventJson

  Returns  the entry's live number.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], 'MINID', '~', now - tonumber(ARGV[1]), '*', 'n', n, 'e', '[' .. table.concat(ARGV, ',', 2) .. ']')
return n
