--[[
  Starts the cluster-wide Ezviz cooldown after a rate-limit answer (10007: the account's call
  count, 10029: its call frequency), which ezviz-budget.lua honours for every worker. The
  cooldown grows on repeats: each rate answer that comes after the last cooldown ended doubles
  it (base, 2 × base, 4 × base … up to max), until `memoryMs` pass without one. Answers to calls
  that were already in flight while a cooldown holds do not count again.

  KEYS[1]  string: the cooldown (value: the code that started it; PTTL: what is left)
  KEYS[2]  string: the strikes (rate answers in a row), forgotten after memoryMs
  ARGV[1]  baseMs
  ARGV[2]  maxMs
  ARGV[3]  memoryMs
  ARGV[4]  the Ezviz code that was answered

  Returns  {cooldownMs, strikes}: the cooldown now holding (ms left) and the strikes counted
]]
local left = redis.call('PTTL', KEYS[1])
if left > 0 then
  return {left, tonumber(redis.call('GET', KEYS[2]) or '1')}
end
local base, max, memory = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local strikes = redis.call('INCR', KEYS[2])
local ms = math.min(max, base * 2 ^ (strikes - 1))
ms = math.floor(ms)
redis.call('PEXPIRE', KEYS[2], math.max(memory, ms + memory))
redis.call('SET', KEYS[1], ARGV[4], 'PX', ms)
return {ms, strikes}
