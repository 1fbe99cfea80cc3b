--[[
  Gives ports back to the pool, only those the owner holds (a late or repeated release by a
  closed tunnel cannot free a port another tunnel took since).

  KEYS[1]  hash of allocated ports: port -> owner
  ARGV[1]  owner
  ARGV[2..] ports

  Returns  how many ports were released.
]]
local released = 0
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    released = released + 1
  end
end
return released
