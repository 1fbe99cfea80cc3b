--[[
  Keeps a caller's read-your-writes token (gateway/db/read-router.ts): the primary's WAL position
  after the caller's latest write, as 16 lower-case hex digits, so that string order is position
  order. Two gateways recording writes of the same caller at once leave the later position, never
  the earlier one; the time to live starts again either way.

  KEYS[1]  string: the caller's token
  ARGV[1]  the position, 16 hex digits
  ARGV[2]  time to live, ms

  Returns  the token kept (the larger of the two)
]]
local current = redis.call('GET', KEYS[1])
if current and current >= ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return current
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
