--[[
  Reads new entries of the ready shards a node may read, in one step per hash-tag group.

  KEYS[1]  ready set of the group (shard numbers with undelivered entries)
  ARGV[1]  consumer group name
  ARGV[2]  consumer (node id)
  ARGV[3]  most entries per shard
  ARGV[4]  mask: character s+1 is '1' when this node reads shard s now
  ARGV[5]  mailbox key template of the group, with %d for the shard number (from bus/keys.ts;
           every mailbox of the group shares the group's hash tag, so the keys are in this slot)
  ARGV[6]  lease key template of the group, with %d for the shard number

  Reads are fenced: a shard is read only while the lease names this node and has not expired
  (Redis clock). A node that lost a shard (paused, partitioned, cut off by a Redis outage) can
  therefore never move new entries into its own pending list after the next holder claimed
  the pending ones, where nobody would look for them again.

  A shard is removed from the ready set when this read drained it (fewer than ARGV[3] entries
  came back); producers add it again atomically with their next entry (enqueue-many.lua), so no
  signal is lost.

  Returns  { shard1, entries1, shard2, entries2, ... } with entries as XREADGROUP gives them,
           { { id, { field, value, ... } }, ... }, each usual one flat (lib/flat-entries.lua).
]]
--#include lib/flat-entries.lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local group, consumer, count, mask, template = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local leaseTemplate = ARGV[6]
local STREAMS_PER_CALL = 500 -- a tag group holds up to 1,024 mailboxes; Lua's unpack takes ~8,000 values
local readable, memberOf = {}, {}
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local shard = tonumber(member)
  local lease = shard and string.sub(mask, shard + 1, shard + 1) == '1'
    and redis.call('HMGET', string.format(leaseTemplate, shard), 'node', 'until')
  if lease and lease[1] == consumer and (tonumber(lease[2]) or 0) > now then
    local key = string.format(template, shard)
    readable[#readable + 1] = key
    memberOf[key] = member
  end
end
-- One XREADGROUP over every readable mailbox (COUNT applies to each stream), STREAMS_PER_CALL
-- at a time: one call per shard cost Redis ~13 µs of CPU per entry where most shards hold one
-- new entry, one call for all of them ~9.5 (decision 061). A stream with no new entry is left out
-- of the reply; it was drained.
local out = {}
for from = 1, #readable, STREAMS_PER_CALL do
  local to = math.min(from + STREAMS_PER_CALL - 1, #readable)
  local args = { 'XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS' }
  for k = from, to do args[#args + 1] = readable[k] end
  for _ = from, to do args[#args + 1] = '>' end
  local got = {}
  for _, stream in ipairs(redis.call(unpack(args)) or {}) do
    local entries = stream[2]
    if #entries > 0 then
      got[stream[1]] = #entries
      out[#out + 1] = tonumber(memberOf[stream[1]])
      out[#out + 1] = flattenEntries(entries)
    end
  end
  local drained = {}
  for k = from, to do
    if (got[readable[k]] or 0) < count then drained[#drained + 1] = memberOf[readable[k]] end
  end
  -- One SREM for the chunk's drained shards, not one each (a call from Lua costs more than its member).
  if #drained > 0 then redis.call('SREM', KEYS[1], unpack(drained)) end
end
return out
