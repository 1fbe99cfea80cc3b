--[[
  The BullMQ worker's atomic read-modify-write of one edge's state (peers bench): the state is
  written, with its timer and outbox events, only if nobody wrote it since it was read.

  KEYS[1] the edge's state hash (fields v = version, s = state JSON)
  KEYS[2] the timers sorted set (member = edge id, score = due ms)
  KEYS[3] the outbox stream
  ARGV[1] the version read (0: the hash did not exist)
  ARGV[2] the new state JSON
  ARGV[3] the edge id
  ARGV[4] the offline timer's due time in ms ('' : unchanged)
  ARGV[5..] outbox events (JSON), one entry each

  Returns 1 when written, 0 when the version moved (read again and retry).
]]
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', v + 1, 's', ARGV[2])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3]) end
for i = 5, #ARGV do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', 10000, '*', 'e', ARGV[i])
end
return 1
