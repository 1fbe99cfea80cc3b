--[[
  Dead-letters a device message a link refused, within its edge's byte budget: the letter is
  always counted (for its edge and its code), and stored in the dead-letter stream only while the
  bytes stored for that edge in the current window stay within the budget, so one edge sending
  garbage cannot fill Redis or push the rest of the fleet's letters out of the capped stream.

  KEYS[1]  dead-letter stream
  KEYS[2]  the edge's budget counter: bytes stored in the current window (expires with it)
  KEYS[3]  sorted set: edge → dead letters counted
  KEYS[4]  hash: code → dead letters counted; `unstored` → counted but over budget, not stored
  ARGV[1]  stream cap (approximate MAXLEN)
  ARGV[2]  budget: bytes an edge may store per window
  ARGV[3]  window, ms
  ARGV[4]  edge (member of KEYS[3]; `-` for a message that names no edge of the fleet)
  ARGV[5]  error code
  ARGV[6]  bytes the letter costs (what the budget is charged)
  ARGV[7..] the letter's field/value pairs

  Returns  1 when the letter was stored, 0 when it was only counted (over budget).
]]
redis.call('ZINCRBY', KEYS[3], 1, ARGV[4])
redis.call('HINCRBY', KEYS[4], ARGV[5], 1)
local size = tonumber(ARGV[6])
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used + size > tonumber(ARGV[2]) then
  redis.call('HINCRBY', KEYS[4], 'unstored', 1)
  return 0
end
if redis.call('INCRBY', KEYS[2], size) == size then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 7))
return 1
