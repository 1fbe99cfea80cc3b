--[[
  Appends several messages of one hash-tag group to their shards' mailboxes and marks those
  shards ready, in one step: what a link sends for a batch of device messages.

  KEYS[1]        ready set of the tag group
  KEYS[2..n+1]   mailbox stream of each message's shard, in message order
  ARGV           per message, 5 values: shard number, address (a), method (m), payload (p),
                 enqueue time (t)

  Returns  the new entries' ids, in message order.
]]
local ids = {}
local marked, shards = {}, {}
for i = 2, #KEYS do
  local base = (i - 2) * 5
  local shard = ARGV[base + 1]
  ids[i - 1] = redis.call('XADD', KEYS[i], '*',
    'a', ARGV[base + 2], 'm', ARGV[base + 3], 'p', ARGV[base + 4], 't', ARGV[base + 5])
  if not marked[shard] then
    marked[shard] = true
    shards[#shards + 1] = shard
  end
end
-- One SADD for the batch's shards (at most a tag group's 1,024, well within unpack's ~8,000):
-- a call from Lua costs Redis more than the member it adds, and a batch's messages are mostly
-- for different shards. Within the script, so the entries and their signal stay one step.
if #shards > 0 then redis.call('SADD', KEYS[1], unpack(shards)) end
return ids
