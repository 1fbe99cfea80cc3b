--[[
  Commits one turn of several shards (one hash-tag group) atomically, fenced per shard.

  For each shard i (3 keys each):
    KEYS[3i-2]  lease hash      KEYS[3i-1]  state hash      KEYS[3i]  mailbox stream
  then, of the group: KEYS[#KEYS-4] timers zset   KEYS[#KEYS-3] timer data hash
    KEYS[#KEYS-2] outbox stream   KEYS[#KEYS-1] live stream   KEYS[#KEYS] live number (string)

  ARGV[1]  node id
  ARGV[2]  consumer group name
  ARGV[3]  how long the live stream keeps an entry (ms)
  ARGV[4]  JSON array, one object per shard, in KEYS order:
           { "e": epoch,                               -- fencing token the node holds
             "n": count,                               -- actor states of this shard in ARGV[5..]
             "o": count,                               -- outbox events of this shard in ARGV[5..]
             "p": count,                               -- published (live) events in ARGV[5..]
             "a": [entryId, ...],                      -- mailbox entries to acknowledge
             "t": [member, dueMs, dataJson, ...],      -- timers to set (dueMs as a string;
                                                       -- dataJson '' for a timer without data)
             "c": [member, ...] }                      -- timers to cancel
  ARGV[5..] per shard in KEYS order: its n address, stateJson pairs, its o eventJson, then its
            p published eventJson (kept out of the JSON above so that these documents are not
            escaped twice)
  The committed shards' published events become one live entry: n = INCR of the live number,
  e = the events as a JSON array; entries older than the retention are trimmed (MINID ~).
  A shard is written only when the node still holds its lease with that epoch and the lease
  has not expired (Redis clock): a paused or partitioned node cannot write stale state.

  Returns  the 1-based indexes of the shards that were rejected (empty when all committed).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me, group = ARGV[1], ARGV[2]
local retention = tonumber(ARGV[3])
local shards = cjson.decode(ARGV[4])
local timers, tdata, outbox = KEYS[#KEYS - 4], KEYS[#KEYS - 3], KEYS[#KEYS - 2]
local live, liveSeq = KEYS[#KEYS - 1], KEYS[#KEYS]
local rejected = {}
local published = {}
local nextState = 5

local function chunked(cmd, key, extra, list)
  local n = #list
  local i = 1
  while i <= n do
    local j = math.min(i + 999, n)
    local args = { cmd, key }
    if extra then args[#args + 1] = extra end
    for k = i, j do args[#args + 1] = list[k] end
    redis.call(unpack(args))
    i = j + 1
  end
end

for i = 1, #shards do
  local c = shards[i]
  local base = (i - 1) * 3
  local lease, state, mailbox = KEYS[base + 1], KEYS[base + 2], KEYS[base + 3]
  local f = redis.call('HMGET', lease, 'node', 'epoch', 'until')
  local first = nextState
  local events = first + 2 * c.n
  local lives = events + c.o
  nextState = lives + c.p
  if f[1] ~= me or tonumber(f[2]) ~= tonumber(c.e) or (tonumber(f[3]) or 0) <= now then
    rejected[#rejected + 1] = i
  else
    for k = first, events - 1, 2000 do
      redis.call('HSET', state, unpack(ARGV, k, math.min(k + 1999, events - 1)))
    end
  end
  if rejected[#rejected] ~= i then
    if #c.a > 0 then chunked('XACK', mailbox, group, c.a) end
    for k = 1, #c.t, 3 do
      redis.call('ZADD', timers, c.t[k + 1], c.t[k])
      -- A timer without data keeps nothing in the data hash (its member names it); one set
      -- again without data drops what an earlier setting of it kept.
      if c.t[k + 2] == '' then
        redis.call('HDEL', tdata, c.t[k])
      else
        redis.call('HSET', tdata, c.t[k], c.t[k + 2])
      end
    end
    for k = 1, #c.c do
      redis.call('ZREM', timers, c.c[k])
      redis.call('HDEL', tdata, c.c[k])
    end
    for k = events, lives - 1 do
      redis.call('XADD', outbox, '*', 'e', ARGV[k])
    end
    for k = lives, nextState - 1 do
      published[#published + 1] = ARGV[k]
    end
  end
end
if #published > 0 then
  local n = redis.call('INCR', liveSeq)
  redis.call('XADD', live, 'MINID', '~', now - retention, '*', 'n', n, 'e', '[' .. table.concat(published, ',') .. ']')
end
return rejected
