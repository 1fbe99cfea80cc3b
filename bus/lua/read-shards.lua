--[[
  Reads several shards of one hash-tag group for a node: new entries or its own pending ones.

  KEYS[2i-1]  mailbox stream of shard i
  KEYS[2i]    lease hash of shard i
  ARGV[1]     consumer group name
  ARGV[2]     consumer (node id)
  ARGV[3]     most entries per shard
  ARGV[3+i]   where to read shard i from: '>' for new entries, an id for this consumer's
              pending entries after it ('0': all of them)

  New entries are read only while the shard's lease names this node and has not expired (Redis
  clock), as in read-ready.lua: a node that lost the shard cannot take entries the next holder
  would never see. Pending entries are this node's already and may always be read again.

  Returns  { i1, entries1, i2, entries2, ... } for the shards with entries, i the shard's
           1-based position in KEYS, entries as XREADGROUP gives them, each usual one flat
           (lib/flat-entries.lua).
]]
--#include lib/flat-entries.lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local group, consumer, count = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for i = 1, #KEYS / 2 do
  local mailbox, from = KEYS[2 * i - 1], ARGV[3 + i]
  local allowed = from ~= '>'
  if not allowed then
    local lease = redis.call('HMGET', KEYS[2 * i], 'node', 'until')
    allowed = lease[1] == consumer and (tonumber(lease[2]) or 0) > now
  end
  if allowed then
    local reply = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', mailbox, from)
    local entries = reply and reply[1] and reply[1][2] or {}
    if #entries > 0 then
      out[#out + 1] = i
      out[#out + 1] = flattenEntries(entries)
    end
  end
end
return out
