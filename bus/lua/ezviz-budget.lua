--[[
  Takes one call from the Ezviz Open Platform budget every clip worker of the cluster shares,
  before the call is sent: a token bucket (`burst` calls at once, refilled at `perSecond`) and,
  on top, a sliding window (at most floor(perSecond) grants in any `windowMs`, a little over a
  second, so that no wall-clock second at Ezviz sees more than perSecond calls even when the
  bucket is full and requests arrive a few ms apart from when they were granted). While a
  cooldown holds (a 10007/10029 answer, ezviz-cooldown.lua) nothing is granted.
  Times are Redis's clock, so every worker measures the same way.

  KEYS[1]  hash: the bucket, `tokens` (may be fractional) and `at` (ms of the last refill)
  KEYS[2]  sorted set: the grants of the window (member: a unique grant id, score: ms)
  KEYS[3]  string: the cooldown; its PTTL is what is left of it
  ARGV[1]  perSecond (> 0)
  ARGV[2]  burst (>= 1)
  ARGV[3]  windowMs (>= 1000)
  ARGV[4]  grant id (unique per call)

  Returns  {1, 0}       taken: send the call now
           {0, waitMs}  the budget is spent: ask again in waitMs
           {2, waitMs}  a cooldown holds for waitMs more
]]
local left = redis.call('PTTL', KEYS[3])
if left > 0 then return {2, left} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, burst, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cap = math.max(1, math.floor(rate))
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
local granted = redis.call('ZCARD', KEYS[2])
local wait = 0
if tokens < 1 then wait = math.ceil((1 - tokens) * 1000 / rate) end
if granted >= cap then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  local w = tonumber(oldest[2]) + window - now + 1
  if w > wait then wait = w end
end
local ttl = math.ceil(math.max(window, burst * 1000 / rate)) * 2
if wait > 0 then
  redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', at)
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {0, wait}
end
redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'at', at)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('PEXPIRE', KEYS[2], window * 2)
return {1, 0}
