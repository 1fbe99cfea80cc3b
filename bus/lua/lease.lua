--[[
  A named lease: one holder at a time (the gateway's outbox sink per tag group, a web-backend
  delivery partition). `hold` takes a free or expired lease, or extends the caller's own;
  `drop` gives it up, only if the caller holds it.

  KEYS[1]  the lease key (string: the holder)
  ARGV[1]  'hold' or 'drop'
  ARGV[2]  holder
  ARGV[3]  time to live, ms (hold)

  Returns  1 when the caller holds (hold) or held (drop) the lease, else 0.
]]
local current = redis.call('GET', KEYS[1])
if ARGV[1] == 'hold' then
  if current == false or current == ARGV[2] then
    redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
    return 1
  end
  return 0
end
if current == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
